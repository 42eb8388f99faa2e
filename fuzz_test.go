package ginjwt

import (
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseToken feeds arbitrary strings to the token parser: it must never
// panic, must answer with one of the documented errors, and must never
// accept a token it did not sign.
func FuzzParseToken(f *testing.F) {
	// Deterministic tokens: every fuzz worker process makes the same ones.
	clk := newClock()
	a := newAuth(f, clk, nil)
	kid := a.KeyIDs()[0]
	good := forge(f, a, map[string]string{"alg": "HS256", "kid": kid, "typ": "JWT"}, validPayload(clk))
	expired := forge(f, a, map[string]string{"alg": "HS256", "kid": kid, "typ": "at+jwt"}, withClaim(validPayload(clk), "exp", clk.Now().Unix()-1))
	f.Add(good)
	f.Add(expired)
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add(strings.Split(good, ".")[0] + ".e30.")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := a.parse(token)
		if err == nil {
			if token != good {
				t.Fatalf("accepted a token it did not issue: %q", token)
			}
			return
		}
		known := []error{ErrTokenMissing, ErrTokenInvalid, ErrTokenExpired, ErrTokenNotYetValid, ErrTokenTypeInvalid}
		if !slices.ContainsFunc(known, func(e error) bool { return errors.Is(err, e) }) {
			t.Fatalf("undocumented error %v", err)
		}
		if c != nil && !errors.Is(err, ErrTokenExpired) && !errors.Is(err, ErrTokenNotYetValid) {
			t.Fatalf("claims returned with %v", err)
		}
	})
}

// FuzzAuthorizationHeader checks the Authorization parser's bounds.
func FuzzAuthorizationHeader(f *testing.F) {
	for _, s := range []string{"", "Bearer x", "bearer  x", "Basic abc", "Bearer", "Bearer a b", "BEARER\tx", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ours, err := trimBearer(header, "Bearer")
		if err != nil && !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("undocumented error %v", err)
		}
		if token != "" && (!ours || err != nil || strings.ContainsAny(token, " \t") || len(token) > maxTokenLen+8) {
			t.Fatalf("token %q from %q (ours %v, err %v)", token, header, ours, err)
		}
		if token != "" && !strings.HasSuffix(header, token) {
			t.Fatalf("token %q is not the end of %q", token, header)
		}
		// The cache's unchecked read agrees on whose header it is, and
		// finds the same token whenever trimBearer finds one.
		candidate, candidateOurs := bearerCandidate(header, "Bearer")
		if candidateOurs != ours || (err == nil && candidate != token) {
			t.Fatalf("%q: bearerCandidate %q %v, trimBearer %q %v %v", header, candidate, candidateOurs, token, ours, err)
		}
		_ = utf8.ValidString(token)
	})
}

// FuzzCookieValue checks the in-place Cookie parser against net/http's:
// whenever net/http finds a plain value for the name, so does cookieValue,
// and cookieValue never returns a value net/http would not.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{
		"jwt_access=abc.def.ghi", `jwt_access="quoted.value"`, "a=1; jwt_access=x; b=2", "jwt_access=",
		"jwt_access=a b", "jwt_access=a;jwt_access=b", " jwt_access = x ", "jwt_access=\x7f", "jwt_access=\"\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		got := cookieValue(r, "jwt_access")
		want := ""
		if ck, err := r.Cookie("jwt_access"); err == nil {
			want = ck.Value
		}
		if got != "" && got != want {
			t.Fatalf("%q: cookieValue %q, net/http %q", header, got, want)
		}
		if want != "" && got == "" && len(want) <= maxTokenLen && cookieSafe(want) {
			t.Fatalf("%q: cookieValue missed %q", header, want)
		}
		// The cache's unchecked read (firstCookie) finds what cookieValue
		// finds whenever its value passes cookieValue's checks.
		if first := firstCookie(r, "jwt_access"); first != "" && cookieSafe(first) && len(first) <= maxTokenLen && first != got {
			t.Fatalf("%q: firstCookie %q, cookieValue %q", header, first, got)
		}
	})
}
