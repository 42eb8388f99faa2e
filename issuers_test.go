package ginjwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// stubIssuer is a TokenVerifier that accepts any token whose payload names
// its issuer, answering verify's claims; it counts its calls.
type stubIssuer struct {
	iss    string
	calls  atomic.Int64
	verify func(token string) (*Claims, error)
	notify func()
}

func (s *stubIssuer) Issuer() string            { return s.iss }
func (s *stubIssuer) NotifyKeyChange(fn func()) { s.notify = fn }
func (s *stubIssuer) Verify(_ context.Context, token string) (*Claims, error) {
	s.calls.Add(1)
	return s.verify(token)
}

// foreignToken is a JWS-shaped token with iss in its payload (its
// signature is the stub's business).
func foreignToken(iss, jti string) string {
	enc := func(v any) string { raw, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(raw) }
	return enc(map[string]string{"alg": "RS256", "kid": "k1"}) + "." + enc(map[string]string{"iss": iss, "jti": jti, "azp": "web"}) + ".c2lnbmF0dXJlLW9mLXRoZS1zdHViLWlzc3Vlcg"
}

func newIssuersHarness(t *testing.T, mode Mode) (*harness, *stubIssuer) {
	s := &stubIssuer{iss: "https://sso.example.com/realms/test"}
	h := newHarness(t, nil, func(c *Config) {
		c.Tokens.Issuers = []TokenVerifier{s}
		c.Mode = mode
	})
	s.verify = func(string) (*Claims, error) {
		return &Claims{Type: AccessToken, UserID: "ext-1", Username: "ext", Perms: []string{"perm1"}, Issuer: s.iss,
			ExpiresAt: h.clock.Now().Add(5 * time.Minute)}, nil
	}
	return h, s
}

func TestIssuersMiddleware(t *testing.T) {
	h, s := newIssuersHarness(t, JSON)
	h.user("alice", "perm1")
	token := foreignToken(s.iss, "a")
	for range 3 {
		w := h.do(req{path: "/api/hello", bearer: token})
		wantStatus(t, w, 200)
		if w.Body.String() != `{"user":"ext"}` {
			t.Fatalf("body %s", w.Body)
		}
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("Verify called %d times for one token, want 1 (then cached)", n)
	}
	wantStatus(t, h.do(req{path: "/api/perm1", bearer: token}), 200)
	wantError(t, h.do(req{path: "/api/admin", bearer: token}), 403, "permission_denied")
	// The claims are marked, and Decode reads the payload.
	h.engine.GET("/api/claims", RequireLogin(), func(c *gin.Context) {
		claims, _ := ClaimsFrom(c)
		_, hasUser := UserFrom(c)
		var p struct{ AZP string }
		err := claims.Decode(&p)
		c.String(200, fmt.Sprintf("%v %v %s %v", claims.External(), hasUser, p.AZP, err))
	})
	if w := h.do(req{path: "/api/claims", bearer: token}); w.Body.String() != "true false web <nil>" {
		t.Fatalf("claims: %s", w.Body)
	}
	// ginjwt's own endpoints refuse it.
	wantError(t, h.do(req{path: "/auth/sessions", bearer: token}), 401, "token_type_invalid")
	wantError(t, h.do(req{path: "/auth/users/me", bearer: token}), 401, "token_type_invalid")
	wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"token": token}, bearer: token}), 401, "token_type_invalid")
	wantError(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": token}}), 401, "token_invalid")
	wantError(t, h.do(req{path: "/auth/token/verify", json: map[string]string{"token": token}}), 401, "token_invalid")

	// Our own token next to it: the stub is not asked.
	calls := s.calls.Load()
	own := h.login("alice")
	if w := h.do(req{path: "/api/claims", bearer: own.Access}); w.Body.String() != "false true  <nil>" {
		t.Fatalf("own claims: %s", w.Body)
	}
	// Another iss: verified as ours, and refused.
	wantError(t, h.do(req{path: "/api/hello", bearer: foreignToken(s.iss+"/", "b")}), 401, "token_invalid")
	if s.calls.Load() != calls {
		t.Fatal("the verifier was asked about a token that is not its issuer's")
	}

	// A change of the verifier's keys: the cached token is verified again.
	s.notify()
	wantStatus(t, h.do(req{path: "/api/hello", bearer: token}), 200)
	if s.calls.Load() != calls+1 {
		t.Fatalf("Verify calls %d after a key change, want %d", s.calls.Load(), calls+1)
	}
}

func TestIssuersVerifierAnswers(t *testing.T) {
	h, s := newIssuersHarness(t, JSON)
	good := s.verify
	for i, tc := range []struct {
		verify func(string) (*Claims, error)
		status int
		code   string
	}{
		{func(string) (*Claims, error) { return nil, fmt.Errorf("%w: exp passed", ErrTokenExpired) }, 401, "token_expired"},
		{func(string) (*Claims, error) { return nil, ErrTokenNotYetValid }, 401, "token_not_yet_valid"},
		{func(string) (*Claims, error) { return nil, errors.New("some library error") }, 401, "token_invalid"},
		{func(string) (*Claims, error) { return nil, fmt.Errorf("%w: no keys yet", ErrUnavailable) }, 503, "unavailable"},
		{func(t string) (*Claims, error) { c, _ := good(t); c.Type = RefreshToken; return c, nil }, 401, "token_invalid"},
		{func(t string) (*Claims, error) { c, _ := good(t); c.Issuer = "ours"; return c, nil }, 401, "token_invalid"},
		{func(t string) (*Claims, error) { c, _ := good(t); c.UserID = ""; return c, nil }, 401, "token_invalid"},
		{func(string) (*Claims, error) { return nil, nil }, 401, "token_invalid"},
	} {
		s.verify = tc.verify
		wantError(t, h.do(req{path: "/api/hello", bearer: foreignToken(s.iss, fmt.Sprint("case", i))}), tc.status, tc.code)
	}
}

// Tokens of other issuers travel as Bearer tokens only: in ginjwt's cookie
// they are refused, even once cached.
func TestIssuersNotFromCookies(t *testing.T) {
	h, s := newIssuersHarness(t, OneCookie)
	token := foreignToken(s.iss, "c")
	cookie := http.Header{"Cookie": {h.auth.cfg.Transport.Cookies.AccessName + "=" + token}}
	wantError(t, h.do(req{path: "/api/hello", header: cookie}), 401, "token_invalid")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: token}), 200)
	wantError(t, h.do(req{path: "/api/hello", header: cookie}), 401, "token_invalid")
}
