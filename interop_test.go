package ginjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
	gojwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
)

// A service that trusts ginjwt holds only its JWKS and an independent JOSE
// library. These tests run a real ginjwt server (httptest), log in over
// HTTP, fetch /auth/jwks.json and verify the tokens with golang-jwt/jwt/v5
// and go-jose/v4, at the very second they were issued, leeway 0.

// jwksService is such a service: the key set, fetched from the server.
type jwksService struct {
	t    *testing.T
	keys gojose.JSONWebKeySet
	alg  string
}

func fetchJWKS(t *testing.T, base, alg string) *jwksService {
	t.Helper()
	resp, err := http.Get(base + "/auth/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s := &jwksService{t: t, alg: alg}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s.keys); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	if len(s.keys.Keys) != 1 || s.keys.Keys[0].Algorithm != alg || s.keys.Keys[0].Use != "sig" {
		t.Fatalf("jwks: %+v", s.keys.Keys)
	}
	return s
}

// key is the public key kid names in the set.
func (s *jwksService) key(kid string) (any, error) {
	found := s.keys.Key(kid)
	if len(found) != 1 {
		return nil, fmt.Errorf("no key %q in the JWKS", kid)
	}
	return found[0].Key, nil
}

// accessTyp is how a resource server recognises an access token by its
// header (RFC 9068 §4: "at+jwt", or "application/at+jwt").
func accessTyp(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}

// golangJWT verifies token with golang-jwt's parser: the key from the JWKS
// by kid, only the key's algorithm, iat checked, exp required, leeway 0, at
// now. With access set, the keyfunc also refuses a token whose typ is not
// at+jwt.
func (s *jwksService) golangJWT(token string, now time.Time, access bool) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{s.alg}), jwt.WithIssuedAt(), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	_, err := p.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); access && !accessTyp(typ) {
			return nil, fmt.Errorf("typ %q is not an access token's", typ)
		}
		kid, _ := tok.Header["kid"].(string)
		return s.key(kid)
	})
	return claims, err
}

// goJOSE verifies token with go-jose's jwt package, as golangJWT does.
func (s *jwksService) goJOSE(token string, now time.Time, access bool) (map[string]any, error) {
	tok, err := gojwt.ParseSigned(token, []gojose.SignatureAlgorithm{gojose.SignatureAlgorithm(s.alg)})
	if err != nil {
		return nil, err
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[gojose.HeaderType].(string); access && !accessTyp(typ) {
		return nil, fmt.Errorf("typ %q is not an access token's", typ)
	}
	key, err := s.key(h.KeyID)
	if err != nil {
		return nil, err
	}
	var std gojwt.Claims
	all := map[string]any{}
	if err := tok.Claims(key, &std, &all); err != nil {
		return nil, err
	}
	if std.IssuedAt == nil || std.Expiry == nil {
		return nil, fmt.Errorf("iat or exp missing")
	}
	return all, std.ValidateWithLeeway(gojwt.Expected{Time: now}, 0)
}

// wholeSeconds checks token's NumericDates as PyJWT (default settings) and
// jose's maxTokenAge read them, with now in whole seconds as they take it:
// iat, nbf and exp are JSON integers, and iat is not after now. A token
// with iat 1800000000.4 fails this in its first second, as it fails them.
// (golang-jwt and go-jose truncate fractional dates, so they would not.)
func wholeSeconds(t *testing.T, token string, now time.Time) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iat", "nbf", "exp"} {
		n, ok := claims[name].(json.Number)
		if !ok {
			t.Fatalf("%s missing in %s", name, raw)
		}
		v, err := n.Int64()
		if err != nil {
			t.Fatalf("%s is %s, not an integer: PyJWT and jose refuse it in its first second", name, n)
		}
		if name == "iat" && v > now.Unix() {
			t.Fatalf("iat %d is after %d", v, now.Unix())
		}
	}
}

// getJSON posts body to url and decodes the 200 answer into v.
func postJSON(t *testing.T, url string, body, v any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %s", url, resp.Status, got)
	}
	if err := json.Unmarshal(got, v); err != nil {
		t.Fatalf("%s: %q: %v", url, got, err)
	}
}

// TestIndependentLibrariesVerifyThroughJWKS: for each asymmetric algorithm
// a JWKS-only service verifies ginjwt's access token with golang-jwt and
// go-jose in the second it was issued (ginjwt issued it at .999 of that
// second, the verifiers read the same second's start and its end), and
// refuses its refresh token by typ alone: the same token passes when typ is
// not checked.
func TestIndependentLibrariesVerifyThroughJWKS(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			key, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, nil, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{key} })
			h.user("alice")
			srv := httptest.NewServer(h.engine)
			defer srv.Close()
			second := h.clock.Now() // a whole second
			h.clock.Advance(999 * time.Millisecond)
			issued := h.clock.Now()

			var p pairBody
			postJSON(t, srv.URL+"/auth/token", map[string]string{"username": "alice", "password": "pw-alice"}, &p)
			svc := fetchJWKS(t, srv.URL, alg)
			for _, now := range []time.Time{second, issued} {
				wholeSeconds(t, p.Access, now)
				wholeSeconds(t, p.Refresh, now)
				c, err := svc.golangJWT(p.Access, now, true)
				if err != nil || c["token_type"] != "access" || c["username"] != "alice" {
					t.Fatalf("golang-jwt at %v: %v %v", now, c, err)
				}
				if c, err := svc.goJOSE(p.Access, now, true); err != nil || c["token_type"] != "access" {
					t.Fatalf("go-jose at %v: %v %v", now, c, err)
				}
				// The refresh token is authentic and in date: refused as an
				// access token by its typ alone.
				if c, err := svc.golangJWT(p.Refresh, now, false); err != nil || c["token_type"] != "refresh" {
					t.Fatalf("golang-jwt, refresh token without a typ check: %v %v", c, err)
				}
				if _, err := svc.golangJWT(p.Refresh, now, true); err == nil || !strings.Contains(err.Error(), `typ "refresh+jwt"`) {
					t.Fatalf("golang-jwt accepted the refresh token as an access token: %v", err)
				}
				if _, err := svc.goJOSE(p.Refresh, now, false); err != nil {
					t.Fatalf("go-jose, refresh token without a typ check: %v", err)
				}
				if _, err := svc.goJOSE(p.Refresh, now, true); err == nil || !strings.Contains(err.Error(), `typ "refresh+jwt"`) {
					t.Fatalf("go-jose accepted the refresh token as an access token: %v", err)
				}
			}
			// A second before it was issued, the token is not valid yet:
			// the verifiers do check iat and nbf.
			if _, err := svc.golangJWT(p.Access, second.Add(-time.Second), true); err == nil {
				t.Fatal("golang-jwt accepted a token a second before its iat")
			}

			// A refresh, and a rotated pair: the same for the new tokens.
			h.clock.Advance(2 * time.Second)
			var r pairBody
			postJSON(t, srv.URL+"/auth/token/refresh", map[string]string{"refresh": p.Refresh}, &r)
			now := h.clock.Now().Truncate(time.Second)
			wholeSeconds(t, r.Access, now)
			wholeSeconds(t, r.Refresh, now)
			if _, err := svc.golangJWT(r.Access, now, true); err != nil {
				t.Fatalf("golang-jwt, refreshed access token: %v", err)
			}
			if _, err := svc.goJOSE(r.Refresh, now, true); err == nil {
				t.Fatal("go-jose accepted the rotated refresh token as an access token")
			}
		})
	}
}

// TestSlidingTokenIsAnAccessTokenToOthers: a sliding token authenticates
// requests, so a JWKS-only service takes it for an access token (at+jwt);
// ginjwt tells it apart by token_type.
func TestSlidingTokenIsAnAccessTokenToOthers(t *testing.T) {
	t.Parallel()
	key, err := GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{key}; c.Tokens.Sliding = true })
	h.user("alice")
	srv := httptest.NewServer(h.engine)
	defer srv.Close()
	h.clock.Advance(500 * time.Millisecond)
	var p pairBody
	postJSON(t, srv.URL+"/auth/token", map[string]string{"username": "alice", "password": "pw-alice"}, &p)
	now := h.clock.Now().Truncate(time.Second)
	wholeSeconds(t, p.Token, now)
	svc := fetchJWKS(t, srv.URL, "ES256")
	c, err := svc.golangJWT(p.Token, now, true)
	if err != nil || c["token_type"] != "sliding" {
		t.Fatalf("golang-jwt: %v %v", c, err)
	}
	if n, ok := c["refresh_exp"].(float64); !ok || n != float64(int64(n)) {
		t.Fatalf("refresh_exp = %v, want whole seconds", c["refresh_exp"])
	}
}
