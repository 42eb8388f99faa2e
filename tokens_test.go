package ginjwt

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginjwt/ginjwt/internal/jose"
	"github.com/ginjwt/ginjwt/users"
)

// newAuth returns an Auth without routes or store, on the test clock.
func newAuth(t testing.TB, clk *clock, edit func(*Config)) *Auth {
	t.Helper()
	cfg := Config{SigningKey: testSecret, Clock: clk.Now, Routes: Routes{Paths: Paths{Obtain: "-"}}}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func alice() *users.User {
	u := users.NewUser("alice")
	u.ID = "u-1"
	u.Perms = users.Perms{"perm1"}
	return u
}

// session issues alice's tokens.
func session(t testing.TB, a *Auth) *Issued {
	t.Helper()
	p, err := a.issueSession(context.Background(), alice())
	if err != nil {
		t.Fatalf("issueSession: %v", err)
	}
	return p
}

// forge signs an arbitrary header and payload with a's current key.
func forge(t testing.TB, a *Auth, header, payload any) string {
	t.Helper()
	enc := func(v any) string {
		if s, ok := v.(string); ok {
			return base64.RawURLEncoding.EncodeToString([]byte(s))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(payload)
	sig, err := a.keys.Load().current.sign([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// validPayload is the payload of a valid access token at clk's time.
func validPayload(clk *clock) map[string]any {
	now := clk.Now().Unix()
	return map[string]any{"jti": "j1", "sid": "s1", "token_type": "access", "iat": now, "nbf": now, "exp": now + 60, "user_id": "u-1", "sub": "u-1", "username": "alice"}
}

func TestEveryAlgorithmSignsAndVerifies(t *testing.T) {
	t.Parallel()
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			key, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			clk := newClock()
			a := newAuth(t, clk, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{key} })
			p := session(t, a)
			claims, err := a.ParseToken(p.Access, AccessToken)
			if err != nil {
				t.Fatalf("ParseToken: %v", err)
			}
			if claims.UserID != "u-1" || claims.Username != "alice" || claims.SessionID != p.RefreshClaims.ID {
				t.Fatalf("claims = %+v", claims)
			}
			var h jose.Header
			raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(p.Access, ".")[0])
			if err := json.Unmarshal(raw, &h); err != nil || h.Alg != alg || h.Kid != a.KeyIDs()[0] || h.Typ != "at+jwt" {
				t.Fatalf("access header = %s (%v)", raw, err)
			}
			raw, _ = base64.RawURLEncoding.DecodeString(strings.Split(p.Refresh, ".")[0])
			if err := json.Unmarshal(raw, &h); err != nil || h.Alg != alg || h.Kid != a.KeyIDs()[0] || h.Typ != "refresh+jwt" {
				t.Fatalf("refresh header = %s (%v)", raw, err)
			}
			// golang-jwt, the reference implementation, agrees.
			_, err = jwt.Parse(p.Access, func(*jwt.Token) (any, error) {
				if key.Secret != nil {
					return key.Secret, nil
				}
				return key.Private.Public(), nil
			}, jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(clk.Now))
			if err != nil {
				t.Fatalf("golang-jwt rejects our %s token: %v", alg, err)
			}
		})
	}
}

func TestKeyRotationByKid(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, nil)
	oldID := a.KeyIDs()[0]
	before := session(t, a)

	next, _ := GenerateKey("ES256")
	if err := a.RotateKey(next); err != nil {
		t.Fatal(err)
	}
	if ids := a.KeyIDs(); len(ids) != 2 || ids[1] != oldID {
		t.Fatalf("KeyIDs = %v", ids)
	}
	after := session(t, a)
	if !strings.Contains(string(mustHeader(t, after.Access)), `"alg":"ES256"`) {
		t.Fatalf("new tokens are not signed with the new key: %s", mustHeader(t, after.Access))
	}
	for name, tok := range map[string]string{"old": before.Access, "new": after.Access} {
		if _, err := a.ParseToken(tok); err != nil {
			t.Fatalf("%s token after rotation: %v", name, err)
		}
	}
	if err := a.RemoveKey(a.KeyIDs()[0]); err == nil {
		t.Fatal("removing the signing key succeeded")
	}
	if err := a.RemoveKey(oldID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ParseToken(before.Access); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("token of a removed key: %v, want ErrTokenInvalid", err)
	}
	if _, err := a.ParseToken(after.Access); err != nil {
		t.Fatalf("token of the current key after removal: %v", err)
	}
	if err := a.RotateKey(Key{Algorithm: "HS256", Secret: []byte("short")}); err == nil {
		t.Fatal("rotating to a short key succeeded")
	}
}

func TestStaticKeySetVerifiesOlderKeys(t *testing.T) {
	t.Parallel()
	clk := newClock()
	oldKey, _ := GenerateKey("EdDSA")
	newKey, _ := GenerateKey("RS256")
	old := newAuth(t, clk, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{oldKey} })
	tok := session(t, old).Access
	both := newAuth(t, clk, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{newKey, oldKey} })
	if _, err := both.ParseToken(tok); err != nil {
		t.Fatalf("old key's token in a set that still holds it: %v", err)
	}
	only := newAuth(t, clk, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{newKey} })
	if _, err := only.ParseToken(tok); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("old key's token in a set without it: %v", err)
	}
}

func mustHeader(t testing.TB, tok string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestLeewayAtBothEdges(t *testing.T) {
	t.Parallel()
	for _, leeway := range []time.Duration{0, 30 * time.Second} {
		t.Run(leeway.String(), func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			a := newAuth(t, clk, func(c *Config) { c.Tokens.Leeway = leeway })
			issued := clk.Now()
			p := session(t, a)
			exp := p.AccessClaims.ExpiresAt

			cases := []struct {
				name string
				at   time.Time
				want error
			}{
				{"before nbf beyond leeway", issued.Add(-leeway - time.Nanosecond), ErrTokenNotYetValid},
				{"before nbf within leeway", issued.Add(-leeway), nil},
				{"just before exp+leeway", exp.Add(leeway - time.Nanosecond), nil},
				{"at exp+leeway", exp.Add(leeway), ErrTokenExpired},
			}
			for _, tc := range cases {
				clk.mu.Lock()
				clk.now = tc.at
				clk.mu.Unlock()
				_, err := a.ParseToken(p.Access)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
				}
			}
		})
	}
}

func TestIssuerAndAudience(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, func(c *Config) { c.Tokens.Issuer = "https://auth.example"; c.Tokens.Audience = []string{"api"} })
	p := session(t, a)
	if c, err := a.ParseToken(p.Access); err != nil || c.Issuer != "https://auth.example" || len(c.Audience) != 1 || c.Audience[0] != "api" {
		t.Fatalf("own token: %+v, %v", c, err)
	}

	other := newAuth(t, clk, func(c *Config) { c.Tokens.Issuer = "https://evil.example"; c.Tokens.Audience = []string{"api"} })
	if _, err := a.ParseToken(session(t, other).Access); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("foreign issuer: %v", err)
	}
	wrongAud := newAuth(t, clk, func(c *Config) { c.Tokens.Issuer = "https://auth.example"; c.Tokens.Audience = []string{"billing"} })
	if _, err := a.ParseToken(session(t, wrongAud).Access); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("foreign audience: %v", err)
	}
	noClaims := newAuth(t, clk, nil)
	if _, err := a.ParseToken(session(t, noClaims).Access); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("token without iss/aud: %v", err)
	}

	payload := validPayload(clk)
	payload["iss"], payload["aud"] = "https://auth.example", []string{"billing", "api"}
	if _, err := a.ParseToken(forge(t, a, map[string]string{"alg": "HS256", "typ": "JWT"}, payload)); err != nil {
		t.Fatalf("aud array naming us among others: %v", err)
	}
	payload["aud"] = "api"
	if _, err := a.ParseToken(forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, payload)); err != nil {
		t.Fatalf("aud as a string: %v", err)
	}
}

func TestForgedAndMalformedTokensAreInvalid(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, nil)
	kid := a.KeyIDs()[0]
	good := session(t, a).Access
	parts := strings.Split(good, ".")
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	payloadJSON, _ := json.Marshal(validPayload(clk))

	// Tamper: the same signature over a payload that says admin.
	var claims map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	claims["perms"] = []string{"admin"}
	tampered, _ := json.Marshal(claims)

	// Expired and badly signed: must be reported as invalid, not expired.
	expired := validPayload(clk)
	expired["exp"] = clk.Now().Add(-time.Hour).Unix()
	expiredForged := forge(t, a, map[string]string{"alg": "HS256", "kid": kid, "typ": "at+jwt"}, expired)
	expiredForged = expiredForged[:len(expiredForged)-4] + "AAAA"

	cases := map[string]string{
		"alg none":                 enc(`{"alg":"none","typ":"JWT"}`) + "." + enc(string(payloadJSON)) + ".",
		"alg None with our kid":    enc(`{"alg":"None","kid":"`+kid+`"}`) + "." + enc(string(payloadJSON)) + ".",
		"alg missing":              enc(`{"kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"alg of another family":    enc(`{"alg":"HS512","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"unknown kid":              enc(`{"alg":"HS256","kid":"nope"}`) + "." + parts[1] + "." + parts[2],
		"tampered payload":         parts[0] + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." + parts[2],
		"signature of another":     parts[0] + "." + parts[1] + "." + strings.Split(session(t, a).Access, ".")[2],
		"expired and badly signed": expiredForged,
		"crit header":              forge(t, a, map[string]any{"alg": "HS256", "typ": "at+jwt", "crit": []string{"exp"}, "exp": 1}, validPayload(clk)),
		"typ unknown":              forge(t, a, map[string]any{"alg": "HS256", "typ": "JOSE"}, validPayload(clk)),
		"typ missing":              forge(t, a, map[string]any{"alg": "HS256", "kid": kid}, validPayload(clk)),
		"typ of another type":      forge(t, a, map[string]any{"alg": "HS256", "typ": "application/at+jwt+x"}, validPayload(clk)),
		"two parts":                parts[0] + "." + parts[1],
		"four parts":               good + ".x",
		"empty signature":          parts[0] + "." + parts[1] + ".",
		"padded signature":         good + "=",
		"non-canonical base64":     parts[0] + "." + parts[1] + "." + flipLastBits(parts[2]),
		"not base64 header":        "!!!." + parts[1] + "." + parts[2],
		"header not JSON":          enc("alg=HS256") + "." + parts[1] + "." + parts[2],
		"payload not JSON":         forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, "hello"),
		"payload an array":         forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, []int{1}),
		"user_id a number":         forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, withClaim(validPayload(clk), "user_id", 7)),
		"missing exp":              forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, withClaim(validPayload(clk), "exp", nil)),
		"missing jti":              forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, withClaim(validPayload(clk), "jti", nil)),
		"unknown token_type":       forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, withClaim(validPayload(clk), "token_type", "id")),
		"exp out of range":         forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, withClaim(validPayload(clk), "exp", 1e300)),
		"sub disagrees":            forge(t, a, map[string]string{"alg": "HS256", "typ": "at+jwt"}, withClaim(validPayload(clk), "sub", "u-2")),
		"too long":                 parts[0] + "." + strings.Repeat("A", maxTokenLen) + "." + parts[2],
		"header too long":          enc(`{"alg":"HS256","x":"`+strings.Repeat("a", 2000)+`"}`) + "." + parts[1] + "." + parts[2],
		"dots only":                "..",
		"newline in signature":     parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:],
		"carriage return":          parts[0] + "\r." + parts[1] + "." + parts[2],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := a.ParseToken(tok)
			if !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("err = %v, want ErrTokenInvalid", err)
			}
		})
	}
}

func withClaim(m map[string]any, name string, v any) map[string]any {
	if v == nil {
		delete(m, name)
	} else {
		m[name] = v
	}
	return m
}

// flipLastBits changes the unused low bits of the last base64 character:
// the same bytes under a lenient decoder, another spelling of the token.
func flipLastBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last^1])
}

func TestHMACAndRSAConfusionIsRefused(t *testing.T) {
	t.Parallel()
	clk := newClock()
	rsaKey, _ := GenerateKey("RS256")
	a := newAuth(t, clk, func(c *Config) { c.SigningKey = nil; c.Keys = []Key{rsaKey} })
	kid := a.KeyIDs()[0]

	// The classic attack: HMAC-sign with the RSA public key (which is
	// public) as the secret, and claim alg HS256 under the RSA key's kid.
	der, _ := x509.MarshalPKIXPublicKey(rsaKey.Private.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, secret := range [][]byte{pubPEM, der} {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(validPayload(clk)))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.ParseToken(s); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("HS256 token signed with the RSA public key: %v, want ErrTokenInvalid", err)
		}
	}
}

// TestFractionalNumericDates: a token as ginjwt wrote them before NumericDates
// were whole seconds (typ JWT, iat to the millisecond) still decodes, to
// the millisecond.
func TestFractionalNumericDates(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, nil)
	p := validPayload(clk)
	p["iat"] = float64(clk.Now().Unix()) - 0.5
	p["exp"] = float64(clk.Now().Unix()) + 59.25
	c, err := a.ParseToken(forge(t, a, map[string]string{"alg": "HS256", "typ": "JWT"}, p))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ExpiresAt.Sub(clk.Now()); got != 59250*time.Millisecond {
		t.Fatalf("exp - now = %v", got)
	}
	if got := clk.Now().Sub(c.IssuedAt); got != 500*time.Millisecond {
		t.Fatalf("now - iat = %v", got)
	}
}

func TestTokenTypes(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, nil)
	p := session(t, a)
	if _, err := a.ParseToken(p.Refresh, AccessToken); !errors.Is(err, ErrTokenTypeInvalid) {
		t.Fatalf("refresh as access: %v", err)
	}
	if _, err := a.ParseToken(p.Access, RefreshToken); !errors.Is(err, ErrTokenTypeInvalid) {
		t.Fatalf("access as refresh: %v", err)
	}
	if p.AccessClaims.SessionID != p.RefreshClaims.ID || p.RefreshClaims.SessionID != p.RefreshClaims.ID {
		t.Fatalf("sid: access %s, refresh %s (jti %s)", p.AccessClaims.SessionID, p.RefreshClaims.SessionID, p.RefreshClaims.ID)
	}
	if got := p.AccessClaims.ExpiresAt.Sub(clk.Now()); got != 5*time.Minute {
		t.Fatalf("access TTL = %v", got)
	}
	if got := p.RefreshClaims.ExpiresAt.Sub(clk.Now()); got != 24*time.Hour {
		t.Fatalf("refresh TTL = %v", got)
	}
}

func TestClaimsHookAndDecode(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := newAuth(t, clk, func(c *Config) {
		c.Tokens.ClaimsHook = func(_ context.Context, u *users.User, c *Claims) error {
			c.Extra = map[string]any{"tenant": "acme-" + u.Username}
			c.Perms = append(c.Perms, "hooked")
			return nil
		}
	})
	p := session(t, a)
	c, err := a.ParseToken(p.Access)
	if err != nil {
		t.Fatal(err)
	}
	var mine struct {
		Tenant string `json:"tenant"`
	}
	if err := c.Decode(&mine); err != nil || mine.Tenant != "acme-alice" {
		t.Fatalf("Decode: %+v, %v", mine, err)
	}
	if !c.HasPerms("perm1", "hooked") {
		t.Fatalf("perms = %v", c.Perms)
	}

	for _, name := range []string{"exp", "EXP", "User_ID"} {
		bad := newAuth(t, clk, func(c *Config) {
			c.Tokens.ClaimsHook = func(_ context.Context, _ *users.User, c *Claims) error {
				c.Extra = map[string]any{name: 1}
				return nil
			}
		})
		if _, err := bad.issueSession(context.Background(), alice()); err == nil {
			t.Fatalf("a hook overriding %s through Extra was accepted", name)
		}
	}
}

func TestBearerHeaderParsing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header, token string
		ours, bad     bool
	}{
		{"", "", false, false},
		{"Bearer abc", "abc", true, false},
		{"bearer abc", "abc", true, false},
		{"BEARER  abc", "abc", true, false},
		{"Basic dXNlcjpwdw==", "", false, false},
		{"Bearer", "", true, true},
		{"Bearer ", "", true, true},
		{"Bearer a b", "", true, true},
		{"Bearer a\tb", "", true, true},
		{"Bearer " + strings.Repeat("a", maxTokenLen+100), "", true, true},
	}
	for _, tc := range cases {
		token, ours, err := trimBearer(tc.header, "Bearer")
		if token != tc.token || ours != tc.ours || (err != nil) != tc.bad {
			t.Errorf("%.30q: got %q %v %v", tc.header, token, ours, err)
		}
	}
}
