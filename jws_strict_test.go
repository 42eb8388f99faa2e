package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt/users"
)

// TestJWSHeaderNamesAreExact: header member names are case-sensitive
// (RFC 7515 §5.3), unique (RFC 7515 §4), and compared after unescaping.
func TestJWSHeaderNamesAreExact(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, nil)
	kid := a.KeyIDs()[0]
	payload := validPayload(clk)
	cases := []struct {
		header string
		ok     bool
	}{
		{`{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`, true},
		{`{"kid":"` + kid + `","typ":"JWT","alg":"HS256"}`, true}, // as ginjwt wrote them before typing
		{` { "alg" : "HS256" ,` + "\n\t" + `"kid" : "` + kid + `" , "typ":"at+jwt"} `, true},
		{`{"\u0061lg":"HS256","kid":"` + kid + `","\u0074yp":"at\u002bjwt"}`, true}, // "alg", "typ", "+" escaped
		{`{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt","x5u":null,"ext":{"a":[1,{"b":2}],"A":true}}`, true},
		{`{"alg":"HS256","typ":"at+jwt"}`, true},       // no kid: the current key
		{`{"alg":"HS256","kid":"` + kid + `"}`, false}, // no typ
		{`{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt","TYP":"at+jwt"}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt","typ":"at+jwt"}`, false},
		{`{"ALG":"HS256","kid":"` + kid + `"}`, false},
		{`{"Alg":"HS256","KID":"` + kid + `"}`, false},
		{`{"alg":"HS256","alg":"HS256","kid":"` + kid + `"}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","kid":"` + kid + `"}`, false},
		{`{"alg":"HS256","\u0061lg":"HS256","kid":"` + kid + `"}`, false},
		{`{"alg":"HS256","ALG":"none","kid":"` + kid + `"}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","x":1,"X":1}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","crit":["exp"],"exp":1}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","crit":null}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","typ":"jwt"}`, true},
		{`{"alg":"HS256","kid":"` + kid + `","typ":null}`, false},
		{`{"alg":null,"kid":"` + kid + `"}`, false},
		{`{"alg":"HS256","kid":7}`, false},
		{`{"alg":["HS256"],"kid":"` + kid + `"}`, false},
		{`{"alg":"HS256","kid":"` + kid + `"} {}`, false},
		{`{"alg":"HS256","kid":"` + kid + `",}`, false},
		{`{"alg":"HS256","kid":"` + kid + `","x":"` + "\xff" + `"}`, false},
		{`["alg","HS256"]`, false},
		{``, false},
	}
	for _, tc := range cases {
		_, err := a.parse(forge(t, a, tc.header, payload))
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.header, err)
		case !tc.ok && !errors.Is(err, ErrTokenInvalid):
			t.Errorf("%s: %v, want ErrTokenInvalid", tc.header, err)
		}
	}
}

// ambiguousPayloads are payloads signed with the right key that a reader
// could resolve two ways: refused.
func ambiguousPayloads(clk *clock) map[string]string {
	now := clk.Now().Unix()
	base := fmt.Sprintf(`"jti":"j1","sid":"s1","token_type":"access","iat":%d,"exp":%d`, now, now+60)
	return map[string]string{
		"USER_ID after user_id":    `{` + base + `,"user_id":"alice","USER_ID":"bob"}`,
		"user_id twice":            `{` + base + `,"user_id":"alice","user_id":"bob"}`,
		"User_Id before user_id":   `{` + base + `,"User_Id":"bob","user_id":"alice"}`,
		"escaped user_id twice":    `{` + base + `,"user_id":"alice","\u0075ser_id":"bob"}`,
		"Username alone":           `{` + base + `,"user_id":"alice","Username":"bob"}`,
		"exp twice":                `{` + base + `,"user_id":"alice","exp":9999999999}`,
		"an own claim in two case": `{` + base + `,"user_id":"alice","tenant":"a","TENANT":"b"}`,
		"long s for s":             `{` + base + `,"user_id":"alice","ſid":"s2"}`,
	}
}

// TestAmbiguousClaimsAreRefused: a payload with two names equal exactly or
// under case folding (or a case variant of a standard claim) is refused by
// the middleware, so no reader (Claims.Decode folds case, as encoding/json
// does) can see a value the middleware did not.
func TestAmbiguousClaimsAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	kid := h.auth.KeyIDs()[0]
	header := map[string]string{"alg": "HS256", "kid": kid, "typ": "JWT"}
	now := h.clock.Now().Unix()
	plain := fmt.Sprintf(`{"jti":"j1","sid":"s1","token_type":"access","iat":%d,"exp":%d,"user_id":"alice","username":"alice","tenant":"a"}`, now, now+60)
	if w := h.do(req{path: "/api/hello", bearer: forge(t, h.auth, header, plain)}); w.Code != http.StatusOK {
		t.Fatalf("unambiguous token: %d %s", w.Code, w.Body)
	}
	for name, payload := range ambiguousPayloads(h.clock) {
		t.Run(name, func(t *testing.T) {
			token := forge(t, h.auth, header, payload)
			w := h.do(req{path: "/api/hello", bearer: token})
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"token_invalid"`) {
				t.Fatalf("%d %s, want 401 token_invalid", w.Code, w.Body)
			}
			if _, err := h.auth.ParseToken(token); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("ParseToken: %v, want ErrTokenInvalid", err)
			}
		})
	}
}

// TestDecodeSeesWhatTheMiddlewareSees: for every payload the parser
// accepts, Claims.Decode into a struct of the standard names reads the same
// values as the middleware's claims.
func TestDecodeSeesWhatTheMiddlewareSees(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, nil)
	now := clk.Now().Unix()
	base := fmt.Sprintf(`"jti":"j1","sid":"s1","token_type":"access","iat":%d,"exp":%d`, now, now+60)
	for _, payload := range []string{
		`{` + base + `,"user_id":"alice","username":"al","perms":["p"],"extra":{"user_id":"x","USER_ID":"y"}}`,
		`{` + base + `,"user_id":"alice","Tenant":"t","sub":"alice"}`,
		`{"user_id":"alice",` + base + `,"perms":null,"username":null}`,
	} {
		c, err := a.parse(forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, payload))
		if err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		var d struct {
			UserID   string   `json:"user_id"`
			Username string   `json:"username"`
			Perms    []string `json:"perms"`
			Sub      string   `json:"sub"`
		}
		if err := c.Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d.UserID != c.UserID || d.Username != c.Username || d.Sub != c.Subject || len(d.Perms) != len(c.Perms) {
			t.Fatalf("%s: Decode %+v, claims %+v", payload, d, c)
		}
	}
	for name, payload := range ambiguousPayloads(clk) {
		if _, err := a.parse(forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, payload)); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: %v, want ErrTokenInvalid", name, err)
		}
	}
}

// TestIssuerRefusesAmbiguousExtra: ginjwt never issues a token its parser
// would refuse as ambiguous.
func TestIssuerRefusesAmbiguousExtra(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, func(c *Config) {
		c.Tokens.ClaimsHook = func(_ context.Context, _ *users.User, c *Claims) error {
			c.Extra = map[string]any{"tenant": "a", "TENANT": "b"}
			return nil
		}
	})
	if _, err := a.issueSession(context.Background(), alice()); err == nil {
		t.Fatal("issued a token with tenant and TENANT")
	}
}
