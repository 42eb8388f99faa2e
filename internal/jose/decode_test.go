package jose

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracleClaims decodes a payload with encoding/json, key by key in order
// as its struct decoding does, but matching keys exactly as DecodePayload
// does (encoding/json alone would also match "JTI"), and refusing what
// DecodePayload refuses as ambiguous: two names equal under case folding,
// or a name that folds to a standard claim's without being it.
func oracleClaims(payload []byte) (Payload, error) {
	var w Payload
	if err := json.Unmarshal(payload, new(map[string]json.RawMessage)); err != nil {
		return w, err // not an object, or not JSON at all
	}
	if bytes.Equal(bytes.TrimSpace(payload), []byte("null")) {
		return w, errNotObject
	}
	// Every field of Payload, by its JSON name.
	fields := map[string]any{}
	v := reflect.ValueOf(&w).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		fields[name] = v.Field(i).Addr().Interface()
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if _, err := dec.Token(); err != nil { // {
		return w, err
	}
	var seen []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return w, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return w, err
		}
		name := key.(string)
		for _, other := range seen {
			if strings.EqualFold(name, other) {
				return w, ErrAmbiguous
			}
		}
		seen = append(seen, name)
		for field := range fields {
			if field != name && strings.EqualFold(field, name) {
				return w, ErrAmbiguous
			}
		}
		if dst, ok := fields[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return w, err
			}
		}
	}
	return w, nil
}

var claimSeeds = []string{
	`{"jti":"j","sid":"s","token_type":"access","iat":1800000000.123,"exp":1800000300,"nbf":1800000000,"sub":"u","user_id":"u","username":"alice","perms":["a","b"],"staff":true}`,
	`{"aud":"api","iss":"https://x","superuser":false,"perms":[],"extra":{"nested":[1,2,{"a":null}],"s":"\u00e9\ud83d\ude00"}}`,
	`{"aud":["a","b"],"perms":null,"jti":null,"exp":1e3,"refresh_exp":-0.5E-2}`,
	` { "username" : "esc\"aped\\\/\b\f\n\r\t" , "jti":"\ud800x" } `,
	`{"jti":"a","jti":"b","token_type":"access","token_type":null}`,
	`{"perms":["a",null]}`,
	`{}`, `[]`, `null`, `{"jti":5}`, `{"exp":"5"}`, `{"staff":1}`, `{"jti":"a"} x`, `{"a":}`, `{"a":01}`, `{"a":1.}`, `{"a":tru}`,
	`{"JTI":"upper"}`, "{\"jti\":\"ctl\x01\"}", `{"aud":[1]}`, `{"exp":1e400}`,
	// Ambiguous names: refused.
	`{"user_id":"alice","jti":"j","USER_ID":"bob"}`, `{"tenant":1,"Tenant":2}`, `{"a":1,"a":1}`,
	`{"jti":"a","\u006a\u0074\u0069":"b"}`, `{"Exp":5}`, "{\"\u017fub\":\"long s\"}", "{\"kid\":1,\"\u212aid\":2}",
	`{"":1,"":2}`,
	// Not ambiguous: accepted.
	`{"x":{"a":1,"A":2}}`, `{"tenant":1,"tenants":2,"":3}`, "{\"\u212a\":1,\"j\":2}",
}

func TestDecodeClaimsMatchesEncodingJSON(t *testing.T) {
	for _, seed := range claimSeeds {
		checkAgainstOracle(t, []byte(seed))
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, seed := range claimSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkAgainstOracle(t, payload)
	})
}

// checkAgainstOracle: DecodePayload never accepts what encoding/json refuses,
// and on valid UTF-8 within the depth bound decodes exactly what it does.
func checkAgainstOracle(t *testing.T, payload []byte) {
	t.Helper()
	var got Payload
	err := DecodePayload(bytes.Clone(payload), &got)
	want, werr := oracleClaims(payload)
	if werr != nil {
		if err == nil {
			t.Fatalf("%q: accepted what encoding/json refuses (%v): %+v", payload, werr, got)
		}
		return
	}
	strict := !utf8.Valid(payload) || bytes.Count(payload, []byte("["))+bytes.Count(payload, []byte("{")) > maxDepth
	if err != nil {
		if !strict {
			t.Fatalf("%q: refused (%v) what encoding/json decodes: %+v", payload, err, want)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", payload, got, want)
	}
}

func TestSimpleNumberMatchesParseFloat(t *testing.T) {
	for _, lit := range []string{"0", "1", "1800000000", "1800000000.123", "1800000000.1", "1800000000.05", "999999999999.999", "123456789012345", "0.001", "7.5"} {
		got, ok := simpleNumber([]byte(lit))
		want, err := strconv.ParseFloat(lit, 64)
		if !ok || err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", lit, got, ok, want)
		}
	}
	for _, lit := range []string{"1e3", "-1", "1.2345", "1234567890123456", "1234567890123.5", "1."} {
		if _, ok := simpleNumber([]byte(lit)); ok {
			t.Errorf("%s: taken by the fast path", lit)
		}
	}
}
