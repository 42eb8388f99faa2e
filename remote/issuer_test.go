package remote_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/remote"
	"github.com/ginjwt/ginjwt/users"
)

// idp mimics a Keycloak realm: its JWKS at
// /realms/test/protocol/openid-connect/certs, tokens minted by go-jose (an
// independent JOSE library) with Keycloak's claims.
type idp struct {
	t       *testing.T
	srv     *httptest.Server
	rsa     *rsa.PrivateKey   // kid "rsa1", RS256
	ec      *ecdsa.PrivateKey // kid "ec1", ES256
	enc     *rsa.PrivateKey   // kid "enc1", published with use "enc"
	fetches atomic.Int64
	down    atomic.Bool
	mu      sync.Mutex
	keys    []jose.JSONWebKey // published
}

func newIdP(t *testing.T) *idp {
	t.Helper()
	p := &idp{t: t}
	var err error
	if p.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.enc, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	p.keys = []jose.JSONWebKey{
		{Key: &p.rsa.PublicKey, KeyID: "rsa1", Algorithm: "RS256", Use: "sig"},
		{Key: &p.ec.PublicKey, KeyID: "ec1", Algorithm: "ES256", Use: "sig"},
		// An encryption key, as Keycloak publishes one; its alg says RS256
		// so that only its use keeps it from verifying.
		{Key: &p.enc.PublicKey, KeyID: "enc1", Algorithm: "RS256", Use: "enc"},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/realms/test/protocol/openid-connect/certs" {
			http.NotFound(w, r)
			return
		}
		p.fetches.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		set := jose.JSONWebKeySet{Keys: slices.Clone(p.keys)}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) issuer() string  { return p.srv.URL + "/realms/test" }
func (p *idp) jwksURL() string { return p.issuer() + "/protocol/openid-connect/certs" }

// claims are a Keycloak access token's, valid at now.
func (p *idp) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": p.issuer(), "aud": []string{"ginjwt-api", "account"}, "azp": "web-app",
		"sub": "8f14e45f-ceea-467f-a9a4-7c1c2c2b0001", "typ": "Bearer",
		"preferred_username": "kc-alice", "email": "alice@example.com",
		"realm_access": map[string]any{"roles": []string{"reports:read", "offline_access"}},
		"scope":        "openid profile email",
		"sid":          "kc-session-1", "jti": "kc-jti-" + fmt.Sprint(now.UnixNano()),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
}

// mint signs claims with go-jose: key with alg, header kid and typ ("" for
// none).
func mint(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// clock is a test clock: the real time plus an offset.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

func newTestIssuer(t *testing.T, p *idp, clk *clock, edit func(*remote.IssuerConfig)) *remote.Issuer {
	t.Helper()
	cfg := remote.IssuerConfig{
		JWKSURL: p.jwksURL(), Issuer: p.issuer(), Audience: []string{"ginjwt-api"},
		PermsClaim: "realm_access.roles", KeyCooldown: time.Hour, Logger: quietLogger(), Clock: clk.now,
	}
	if edit != nil {
		edit(&cfg)
	}
	is, err := remote.NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = is.Close(context.Background()) })
	return is
}

// claimsView is what the test routes answer: the request's claims.
type claimsView struct {
	UserID, Username, Issuer, SessionID, ID string
	Perms                                   []string
	External, HasUser                       bool
	AZP                                     string
}

func claimsRoutes(r gin.IRouter) {
	r.GET("/api/me", ginjwt.RequireLogin(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		_, hasUser := ginjwt.UserFrom(c)
		var extra struct {
			AZP string `json:"azp"`
		}
		_ = claims.Decode(&extra)
		c.JSON(200, claimsView{claims.UserID, claims.Username, claims.Issuer, claims.SessionID, claims.ID,
			claims.Perms, claims.External(), hasUser, extra.AZP})
	})
	r.GET("/api/reports", ginjwt.RequirePerms("reports:read"), func(c *gin.Context) { c.String(200, "reports") })
	r.GET("/api/admin", ginjwt.RequirePerms("admin"), func(c *gin.Context) { c.String(200, "admin") })
}

// issuerClient is a client service (remote.Mount) accepting the tokens of
// iss next to the auth service's.
func issuerClient(t *testing.T, as *authService, iss ginjwt.TokenVerifier) *httptest.Server {
	t.Helper()
	db := testdb.SQLite(t)
	if err := users.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	cl, err := remote.Mount(r, remote.Config{AuthURL: as.srv.URL, Credential: credential, DB: db, Logger: quietLogger(),
		Timeout: 5 * time.Second, Issuers: []ginjwt.TokenVerifier{iss}})
	if err != nil {
		t.Fatal(err)
	}
	claimsRoutes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); _ = cl.Close(context.Background()) })
	return srv
}

// issuerAuthService is a plain ginjwt.Mount accepting the tokens of iss.
func issuerAuthService(t *testing.T, iss ginjwt.TokenVerifier) *authService {
	t.Helper()
	as := newAuthService(t, false, func(c *ginjwt.Config) { c.Tokens.Issuers = []ginjwt.TokenVerifier{iss} })
	claimsRoutes(as.engine)
	return as
}

func TestIssuerKeycloakTokens(t *testing.T) {
	p := newIdP(t)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, nil)
	as := issuerAuthService(t, iss)
	as.user("bob", "staff")
	client := issuerClient(t, as, iss)
	b := newBrowser(t)

	for _, svc := range []struct{ name, url string }{{"ginjwt.Mount", as.srv.URL}, {"remote.Mount", client.URL}} {
		for _, k := range []struct {
			alg jose.SignatureAlgorithm
			key any
			kid string
		}{{jose.RS256, p.rsa, "rsa1"}, {jose.ES256, p.ec, "ec1"}} {
			t.Run(svc.name+"/"+string(k.alg), func(t *testing.T) {
				b.t = t
				claims := p.claims(clk.now())
				token := mint(t, k.alg, k.key, k.kid, "JWT", claims)
				r := b.do("GET", svc.url+"/api/me", nil, bearer(token))
				r.want(t, 200, "")
				var v claimsView
				r.json(t, &v)
				want := claimsView{UserID: claims["sub"].(string), Username: "kc-alice", Issuer: p.issuer(), SessionID: "kc-session-1",
					ID: claims["jti"].(string), Perms: []string{"reports:read", "offline_access"}, External: true, HasUser: false, AZP: "web-app"}
				if fmt.Sprint(v) != fmt.Sprint(want) {
					t.Fatalf("claims %+v, want %+v", v, want)
				}
				b.do("GET", svc.url+"/api/me", nil, bearer(token)).want(t, 200, "") // from the cache
				b.do("GET", svc.url+"/api/reports", nil, bearer(token)).want(t, 200, "")
				b.do("GET", svc.url+"/api/admin", nil, bearer(token)).want(t, 403, "permission_denied")
				// ginjwt's own endpoints refuse it.
				b.do("POST", svc.url+"/auth/token/refresh", map[string]string{"refresh": token}, nil).want(t, 401, "")
				b.do("POST", svc.url+"/auth/token/refresh", nil, bearer(token)).want(t, 401, "")
				b.do("GET", svc.url+"/auth/users/me", nil, bearer(token)).want(t, 401, "token_type_invalid")
				if svc.name == "ginjwt.Mount" {
					b.do("GET", svc.url+"/auth/sessions", nil, bearer(token)).want(t, 401, "token_type_invalid")
					b.do("POST", svc.url+"/auth/token/expire", map[string]string{"token": token}, bearer(token)).want(t, 401, "token_type_invalid")
				}
				// A ginjwt token works next to it.
				own := b.login(svc.url, "bob")
				r = b.do("GET", svc.url+"/api/me", nil, bearer(own.Access))
				r.want(t, 200, "")
				r.json(t, &v)
				if v.External || v.Username != "bob" || !v.HasUser {
					t.Fatalf("own token's claims %+v", v)
				}
			})
		}
	}
	if s := as.auth.Stats(); s.CacheHits == 0 {
		t.Fatalf("no cache hit: %+v", s)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (at NewIssuer)", n)
	}
}

func TestIssuerRefusals(t *testing.T) {
	p := newIdP(t)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, nil)
	as := issuerAuthService(t, iss)
	client := issuerClient(t, as, iss)
	b := newBrowser(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&p.rsa.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	now := clk.now()
	with := func(edit func(map[string]any)) map[string]any {
		c := p.claims(now)
		edit(c)
		return c
	}
	rs := func(c map[string]any) string { return mint(t, jose.RS256, p.rsa, "rsa1", "JWT", c) }
	b64 := func(v any) string { raw, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(raw) }

	for _, tc := range []struct {
		name  string
		token string
		code  string
		err   error // Verify's
	}{
		{"wrong iss", rs(with(func(c map[string]any) { c["iss"] = p.issuer() + "x" })), "token_invalid", ginjwt.ErrTokenInvalid},
		{"wrong aud", rs(with(func(c map[string]any) { c["aud"] = "account" })), "token_invalid", ginjwt.ErrTokenInvalid},
		{"no aud", rs(with(func(c map[string]any) { delete(c, "aud") })), "token_invalid", ginjwt.ErrTokenInvalid},
		{"expired", rs(with(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() })), "token_expired", ginjwt.ErrTokenExpired},
		{"no exp", rs(with(func(c map[string]any) { delete(c, "exp") })), "token_invalid", ginjwt.ErrTokenInvalid},
		{"nbf in the future", rs(with(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() })), "token_not_yet_valid", ginjwt.ErrTokenNotYetValid},
		{"iat in the future", rs(with(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() })), "token_not_yet_valid", ginjwt.ErrTokenNotYetValid},
		{"no user", rs(with(func(c map[string]any) { delete(c, "sub") })), "token_invalid", ginjwt.ErrTokenInvalid},
		{"ID token", rs(with(func(c map[string]any) { c["typ"] = "ID" })), "token_type_invalid", ginjwt.ErrTokenTypeInvalid},
		{"typ header refresh+jwt", mint(t, jose.RS256, p.rsa, "rsa1", "refresh+jwt", p.claims(now)), "token_type_invalid", ginjwt.ErrTokenTypeInvalid},
		{"alg none", b64(map[string]string{"alg": "none", "kid": "rsa1", "typ": "JWT"}) + "." + b64(p.claims(now)) + ".", "token_invalid", ginjwt.ErrTokenInvalid},
		{"HS256 with the RSA public key", mint(t, jose.HS256, pubPEM, "rsa1", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
		{"HS256 with the RSA public key, DER", mint(t, jose.HS256, pubDER, "rsa1", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
		{"signed by another key", mint(t, jose.RS256, other, "rsa1", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
		{"ES256 naming the RSA key", mint(t, jose.ES256, p.ec, "rsa1", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
		{"PS256 with the RS256 key", mint(t, jose.PS256, p.rsa, "rsa1", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
		{"key of use enc", mint(t, jose.RS256, p.enc, "enc1", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
		{"crit header", critToken(t, p, now), "token_invalid", ginjwt.ErrTokenInvalid},
		{"no kid", mint(t, jose.RS256, p.rsa, "", "JWT", p.claims(now)), "token_invalid", ginjwt.ErrTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.t = t
			_, err := iss.Verify(context.Background(), tc.token)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Verify: %v, want %v", err, tc.err)
			}
			for _, url := range []string{as.srv.URL, client.URL} {
				b.do("GET", url+"/api/me", nil, bearer(tc.token)).want(t, 401, tc.code)
			}
		})
	}
	// The controls: the same minting, valid, is accepted; typ at+jwt or
	// none too.
	for _, typ := range []string{"at+jwt", "application/at+jwt", ""} {
		if _, err := iss.Verify(context.Background(), mint(t, jose.RS256, p.rsa, "rsa1", typ, p.claims(now))); err != nil {
			t.Fatalf("typ %q: %v", typ, err)
		}
	}
	if n := p.fetches.Load(); n > 2 {
		t.Fatalf("JWKS fetched %d times: unknown kids (enc1, none) may cost one fetch", n)
	}
}

func TestIssuerUnknownKidFlood(t *testing.T) {
	p := newIdP(t)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, func(c *remote.IssuerConfig) { c.KeyCooldown = 30 * time.Second })
	as := issuerAuthService(t, iss)
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times at start", n)
	}
	var tokens [10][20]string
	for w := range tokens {
		for i := range tokens[w] {
			tokens[w][i] = mint(t, jose.RS256, p.rsa, fmt.Sprintf("random-%d-%d-%d", w, i, time.Now().UnixNano()), "JWT", p.claims(clk.now()))
		}
	}
	var wg sync.WaitGroup
	var refused atomic.Int64
	for w := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for _, token := range tokens[w] {
				req, _ := http.NewRequest("GET", as.srv.URL+"/api/me", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := hc.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 401 {
					refused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if refused.Load() != 200 {
		t.Fatalf("%d of 200 tokens with random kids refused", refused.Load())
	}
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times for 200 random kids, want 2 (start + one refetch)", n)
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("Issuer counts %d fetches", n)
	}
	// After the cooldown, an unknown kid may fetch once more: a key the
	// issuer added since verifies.
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.mu.Lock()
	p.keys = append(p.keys, jose.JSONWebKey{Key: &newKey.PublicKey, KeyID: "ec2", Algorithm: "ES256", Use: "sig"})
	p.mu.Unlock()
	token := mint(t, jose.ES256, newKey, "ec2", "JWT", p.claims(clk.now()))
	b := newBrowser(t)
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(token)).want(t, 401, "token_invalid") // still in the cooldown
	clk.advance(31 * time.Second)
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(mint(t, jose.ES256, newKey, "ec2", "JWT", p.claims(clk.now())))).want(t, 200, "")
	if n := p.fetches.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times, want 3", n)
	}
}

func TestIssuerJWKSDownAfterStart(t *testing.T) {
	p := newIdP(t)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, nil)
	as := issuerAuthService(t, iss)
	client := issuerClient(t, as, iss)
	b := newBrowser(t)
	p.down.Store(true)
	for _, url := range []string{as.srv.URL, client.URL} {
		for _, k := range []struct {
			alg jose.SignatureAlgorithm
			key any
			kid string
		}{{jose.RS256, p.rsa, "rsa1"}, {jose.ES256, p.ec, "ec1"}} {
			b.do("GET", url+"/api/reports", nil, bearer(mint(t, k.alg, k.key, k.kid, "at+jwt", p.claims(clk.now())))).want(t, 200, "")
		}
	}
	// An unknown kid: one failed refetch, the last good set kept.
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(mint(t, jose.RS256, p.rsa, "nope", "JWT", p.claims(clk.now())))).want(t, 401, "token_invalid")
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(mint(t, jose.RS256, p.rsa, "rsa1", "JWT", p.claims(clk.now())))).want(t, 200, "")
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

func TestIssuerJWKSDownAtStart(t *testing.T) {
	p := newIdP(t)
	p.down.Store(true)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, func(c *remote.IssuerConfig) { c.KeyCooldown = 10 * time.Second })
	as := issuerAuthService(t, iss)
	b := newBrowser(t)
	r := b.do("GET", as.srv.URL+"/api/me", nil, bearer(mint(t, jose.RS256, p.rsa, "rsa1", "JWT", p.claims(clk.now()))))
	r.want(t, 503, "unavailable")
	p.down.Store(false)
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(mint(t, jose.RS256, p.rsa, "rsa1", "JWT", p.claims(clk.now())))).want(t, 503, "unavailable") // cooldown
	clk.advance(11 * time.Second)
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(mint(t, jose.RS256, p.rsa, "rsa1", "JWT", p.claims(clk.now())))).want(t, 200, "")
	if n := p.fetches.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times, want 3 (start, first token, after the cooldown)", n)
	}
}

// A key removed from the JWKS stops verifying once the set is fetched
// again, cached tokens included.
func TestIssuerKeyRemoved(t *testing.T) {
	p := newIdP(t)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, func(c *remote.IssuerConfig) { c.KeyRefresh = 50 * time.Millisecond })
	as := issuerAuthService(t, iss)
	b := newBrowser(t)
	token := mint(t, jose.RS256, p.rsa, "rsa1", "JWT", p.claims(clk.now()))
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(token)).want(t, 200, "")
	b.do("GET", as.srv.URL+"/api/me", nil, bearer(token)).want(t, 200, "")
	hits := as.auth.Stats().CacheHits
	if hits == 0 {
		t.Fatal("the token was not cached")
	}
	p.mu.Lock()
	p.keys = p.keys[1:]
	p.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := b.do("GET", as.srv.URL+"/api/me", nil, bearer(token))
		if r.status == 401 {
			r.want(t, 401, "token_invalid")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a token of a removed key still verifies after 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIssuerConfig(t *testing.T) {
	p := newIdP(t)
	ok := remote.IssuerConfig{JWKSURL: p.jwksURL(), Issuer: p.issuer(), Audience: []string{"api"}, Logger: quietLogger()}
	for _, tc := range []struct {
		name string
		edit func(*remote.IssuerConfig)
	}{
		{"no JWKSURL", func(c *remote.IssuerConfig) { c.JWKSURL = "" }},
		{"http to another host", func(c *remote.IssuerConfig) { c.JWKSURL = "http://sso.example.com/certs" }},
		{"no Issuer", func(c *remote.IssuerConfig) { c.Issuer = "" }},
		{"no Audience", func(c *remote.IssuerConfig) { c.Audience = nil }},
		{"empty Audience", func(c *remote.IssuerConfig) { c.Audience = []string{""} }},
		{"HMAC", func(c *remote.IssuerConfig) { c.Algorithms = []string{"HS256"} }},
		{"none", func(c *remote.IssuerConfig) { c.Algorithms = []string{"none"} }},
		{"negative cooldown", func(c *remote.IssuerConfig) { c.KeyCooldown = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			if is, err := remote.NewIssuer(cfg); err == nil {
				_ = is.Close(context.Background())
				t.Fatal("accepted")
			}
		})
	}
	is, err := remote.NewIssuer(ok)
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close(context.Background())
	key, _ := ginjwt.GenerateKey("EdDSA")
	for name, cfg := range map[string]ginjwt.Config{
		"twice":      {Keys: []ginjwt.Key{key}, Tokens: ginjwt.Tokens{Issuers: []ginjwt.TokenVerifier{is, is}}},
		"our issuer": {Keys: []ginjwt.Key{key}, Tokens: ginjwt.Tokens{Issuer: p.issuer(), Issuers: []ginjwt.TokenVerifier{is}}},
		"nil":        {Keys: []ginjwt.Key{key}, Tokens: ginjwt.Tokens{Issuers: []ginjwt.TokenVerifier{nil}}},
	} {
		cfg.Routes.Paths.Obtain = "-"
		if _, err := ginjwt.New(cfg); err == nil {
			t.Fatalf("%s: ginjwt.New accepted it", name)
		}
	}
}

// critToken is a valid token but for a crit header naming an extension.
func critToken(t *testing.T, p *idp, now time.Time) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", "rsa1").WithHeader("crit", []string{"exp-ext"}).WithHeader("exp-ext", true)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.rsa}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(p.claims(now))
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := jws.CompactSerialize()
	return token
}

func TestIssuerClaimsMapping(t *testing.T) {
	p := newIdP(t)
	clk := &clock{}
	iss := newTestIssuer(t, p, clk, func(c *remote.IssuerConfig) {
		c.UserClaim, c.UsernameClaim, c.PermsClaim = "uid", "nickname", "scope"
		c.Audience = []string{"other", "ginjwt-api"}
	})
	now := clk.now()
	c := p.claims(now)
	c["uid"], c["nickname"], c["nbf"] = 4242, "alice", now.Add(-time.Second).Unix()
	delete(c, "sid")
	delete(c, "typ")
	got, err := iss.Verify(context.Background(), mint(t, jose.ES256, p.ec, "ec1", "", c))
	if err != nil {
		t.Fatal(err)
	}
	want := ginjwt.Claims{ID: c["jti"].(string), Type: ginjwt.AccessToken, IssuedAt: time.Unix(now.Unix(), 0),
		ExpiresAt: time.Unix(now.Add(5*time.Minute).Unix(), 0), NotBefore: time.Unix(now.Add(-time.Second).Unix(), 0),
		Issuer: p.issuer(), Subject: c["sub"].(string), Audience: []string{"ginjwt-api", "account"},
		UserID: "4242", Username: "alice", Perms: []string{"openid", "profile", "email"}}
	if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("claims\n%+v\nwant\n%+v", *got, want)
	}
	// A user ID that is neither a string nor an integer is refused.
	c["uid"] = 1.5
	if _, err := iss.Verify(context.Background(), mint(t, jose.ES256, p.ec, "ec1", "", c)); !errors.Is(err, ginjwt.ErrTokenInvalid) {
		t.Fatalf("uid 1.5: %v", err)
	}
}

// TestIssuerKeysWithoutAlg: a JWKS whose keys carry no "alg" (Microsoft
// Entra ID publishes its RSA keys so) is read: each key is taken for the
// algorithm its type implies — RS256 for RSA, ES384 for a P-384 key — and
// a token of another algorithm under it is refused.
func TestIssuerKeysWithoutAlg(t *testing.T) {
	p := newIdP(t)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys = []jose.JSONWebKey{
		{Key: &p.rsa.PublicKey, KeyID: "entra-rsa", Use: "sig"},
		{Key: &ec384.PublicKey, KeyID: "ec384", Use: "sig"},
	}
	p.mu.Unlock()
	is := newTestIssuer(t, p, &clock{}, nil)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name string
		alg  jose.SignatureAlgorithm
		key  any
		kid  string
		ok   bool
	}{
		{"RS256 under an RSA key", jose.RS256, p.rsa, "entra-rsa", true},
		{"ES384 under a P-384 key", jose.ES384, ec384, "ec384", true},
		{"PS256 under the RSA key", jose.PS256, p.rsa, "entra-rsa", false},
		{"RS512 under the RSA key", jose.RS512, p.rsa, "entra-rsa", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := is.Verify(ctx, mint(t, tc.alg, tc.key, tc.kid, "JWT", p.claims(now)))
			if (err == nil) != tc.ok {
				t.Fatalf("Verify: %v, want accepted %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ginjwt.ErrTokenInvalid) {
				t.Fatalf("a refusal that is not token_invalid: %v", err)
			}
		})
	}
}

// TestIssuerAuthorizedParties: with AuthorizedParties, a token issued to
// another client (azp) is refused, and one without azp too.
func TestIssuerAuthorizedParties(t *testing.T) {
	p := newIdP(t)
	is := newTestIssuer(t, p, &clock{}, func(c *remote.IssuerConfig) { c.AuthorizedParties = []string{"web-app"} })
	ctx := context.Background()
	now := time.Now()
	if _, err := is.Verify(ctx, mint(t, jose.RS256, p.rsa, "rsa1", "JWT", p.claims(now))); err != nil {
		t.Fatalf("azp web-app: %v", err)
	}
	for _, azp := range []any{"other-app", nil, 42} {
		c := p.claims(now)
		if azp == nil {
			delete(c, "azp")
		} else {
			c["azp"] = azp
		}
		if _, err := is.Verify(ctx, mint(t, jose.RS256, p.rsa, "rsa1", "JWT", c)); !errors.Is(err, ginjwt.ErrTokenInvalid) {
			t.Fatalf("azp %v: %v, want token_invalid", azp, err)
		}
	}
	if _, err := remote.NewIssuer(remote.IssuerConfig{JWKSURL: p.jwksURL(), Issuer: p.issuer(), Audience: []string{"a"},
		AuthorizedParties: []string{""}, Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "AuthorizedParties[0]") {
		t.Fatalf("an empty authorized party: %v", err)
	}
}
