package jose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNamesAgreeWithEqualFold(t *testing.T) {
	t.Parallel()
	// Past maxFastNames the names go into a map by foldKey: the same
	// answers either way.
	var many []string
	for i := range 2 * maxFastNames {
		many = append(many, fmt.Sprintf("claim_%d", i))
	}
	for _, dup := range []string{"CLAIM_3", "claim_3", fmt.Sprintf("claim_%d", maxFastNames+5), fmt.Sprintf("Claim_%d", 2*maxFastNames-1)} {
		var s Names
		for _, n := range many {
			if !s.Add(n) {
				t.Fatalf("%s refused", n)
			}
		}
		if s.Add(dup) {
			t.Errorf("%s after %d names: accepted", dup, len(many))
		}
		if !s.Add("claim_x") {
			t.Error("claim_x refused")
		}
	}
	pairs := [][2]string{{"kid", "\u212aid"}, {"sub", "\u017fub"}, {"ǅ", "ǆ"}, {"Σ", "ς"}, {"a", "A"}, {"", ""}, {"é", "É"}}
	for _, p := range pairs {
		if !strings.EqualFold(p[0], p[1]) || foldKey(p[0]) != foldKey(p[1]) {
			t.Errorf("%q %q: EqualFold %v, foldKey %q %q", p[0], p[1], strings.EqualFold(p[0], p[1]), foldKey(p[0]), foldKey(p[1]))
		}
		var s Names
		if !s.Add(p[0]) || s.Add(p[1]) {
			t.Errorf("%q then %q: not refused", p[0], p[1])
		}
	}
}

// FuzzDecodeHeader checks DecodeHeader against encoding/json: it never
// accepts what encoding/json refuses, refuses exactly the headers whose
// names repeat under case folding, and otherwise reads alg, kid and typ by
// their exact names.
func FuzzDecodeHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"HS256","kid":"k","typ":"JWT"}`, `{"ALG":"HS256"}`, `{"alg":"HS256","alg":"none"}`,
		`{"alg":"HS256","Alg":"none"}`, `{"\u0061lg":"x"}`, `{"crit":["b64"],"b64":false}`, `{"alg":5}`,
		`{"kid":null}`, `{"x":{"a":1,"a":2}}`, `[]`, `{}`, `{"alg":"\ud800"}`, "{\"\u212aid\":\"k\",\"kid\":\"k\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var got Header
		err := DecodeHeader(bytes.Clone(raw), &got)
		want, werr := oracleHeader(raw)
		if werr != nil {
			if err == nil {
				t.Fatalf("%q: accepted what the oracle refuses (%v): %+v", raw, werr, got)
			}
			return
		}
		strict := !utf8.Valid(raw) || bytes.Count(raw, []byte("["))+bytes.Count(raw, []byte("{")) > maxDepth
		if err != nil {
			if !strict {
				t.Fatalf("%q: refused (%v) what the oracle reads: %+v", raw, err, want)
			}
			return
		}
		if got.Alg != want.Alg || got.Kid != want.Kid || got.Typ != want.Typ || (got.Crit == nil) != (want.Crit == nil) {
			t.Fatalf("%q:\n got %+v\nwant %+v", raw, got, want)
		}
	})
}

// oracleHeader reads a header with encoding/json, member by member,
// matching names exactly and refusing names that repeat under case folding.
func oracleHeader(raw []byte) (Header, error) {
	var h Header
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return h, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return h, err
	}
	var seen []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return h, err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return h, err
		}
		name := tok.(string)
		for _, s := range seen {
			if strings.EqualFold(s, name) {
				return h, ErrAmbiguous
			}
		}
		seen = append(seen, name)
		dst := map[string]*string{"alg": &h.Alg, "kid": &h.Kid, "typ": &h.Typ}[name]
		switch {
		case dst != nil:
			if len(value) == 0 || value[0] != '"' {
				return h, errType
			}
			if err := json.Unmarshal(value, dst); err != nil {
				return h, err
			}
		case name == "crit":
			h.Crit = value
		}
	}
	return h, nil
}
