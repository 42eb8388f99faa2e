package remote_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/remote"
	"github.com/ginjwt/ginjwt/users"
)

// TestWalkthrough is examples/microservices' README: log in through the
// client service, call its protected route, find the user copied into the
// client's database with its access group, be refused by a route of
// another group, refresh, log out, and see the session refused.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	alice := as.user("alice", "staff", "reports.view")
	cs := newClientService(t, as, nil)
	b := newBrowser(t)
	client := cs.srv.URL

	var n int64
	cs.db.Model(&users.User{}).Count(&n)
	if n != 0 {
		t.Fatalf("the client's database has %d users before any login", n)
	}
	b.do("POST", client+"/auth/token", map[string]string{"username": "alice", "password": "wrong"}, nil).want(t, 401, "invalid_credentials")
	p := b.login(client, "alice")
	b.do("GET", client+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	b.do("GET", client+"/api/test", nil, nil).want(t, 401, "token_missing")

	var copyOf users.User
	if err := cs.db.First(&copyOf, "id = ?", alice.ID).Error; err != nil {
		t.Fatalf("alice was not copied: %v", err)
	}
	var g AccessGroup
	cs.db.First(&g, "user_id = ?", alice.ID)
	if copyOf.Username != "alice" || copyOf.Email != "alice@example.com" || copyOf.PasswordHash != "" || g.Group != "staff" || len(copyOf.Perms) != 1 {
		t.Fatalf("the copy: %+v, group %q", copyOf, g.Group)
	}
	b.do("GET", client+"/api/admin", nil, bearer(p.Access)).want(t, 403, "permission_denied")
	var me map[string]any
	r := b.do("GET", client+"/auth/users/me", nil, bearer(p.Access))
	r.want(t, 200, "")
	r.json(t, &me)
	if me["username"] != "alice" {
		t.Fatalf("users/me on the client: %s", r.body)
	}

	r = b.do("POST", client+"/auth/token/refresh", map[string]string{"refresh": p.Refresh}, nil)
	r.want(t, 200, "")
	var p2 pair
	r.json(t, &p2)
	b.do("GET", client+"/api/test", nil, bearer(p2.Access)).want(t, 200, "")
	b.do("POST", client+"/auth/token/verify", map[string]string{"token": p2.Access}, nil).want(t, 200, "")

	r = b.do("GET", client+"/auth/sessions", nil, bearer(p2.Access))
	r.want(t, 200, "")
	if !strings.Contains(string(r.body), `"current":true`) {
		t.Fatalf("sessions through the client: %s", r.body)
	}

	b.do("POST", client+"/auth/token/logout", map[string]string{"refresh": p2.Refresh}, nil).want(t, 200, "")
	b.do("GET", client+"/api/test", nil, bearer(p2.Access)).want(t, 401, "token_revoked")
	b.do("POST", client+"/auth/token/refresh", map[string]string{"refresh": p2.Refresh}, nil).want(t, 401, "token_revoked")

	// Another instance of the client service learns it from the feed.
	cs2 := newClientService(t, as, nil)
	b.do("GET", cs2.srv.URL+"/api/test", nil, bearer(p2.Access)).want(t, 401, "token_revoked")
}

// TestUserCopiedOnFirstRequestAndOverwritten: a user logged in on the auth
// service itself is copied on the first request to the client service; a
// change on the auth service reaches the copy after the user's cut-off
// comes through the feed, overwriting the local record.
func TestUserCopiedOnFirstRequestAndOverwritten(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	bob := as.user("bob", "staff")
	cs := newClientService(t, as, func(c *remote.Config) { c.FeedInterval = 100 * time.Millisecond })
	b := newBrowser(t)
	p := b.login(as.srv.URL, "bob")
	b.do("GET", cs.srv.URL+"/api/admin", nil, bearer(p.Access)).want(t, 403, "permission_denied")
	as.db.Model(&AccessGroup{}).Where("user_id = ?", bob.ID).Update("group_name", "admin")
	// A password change cuts bob's sessions off; the feed carries it, and
	// his next session's first request fetches him again.
	if err := as.store.SetPassword(context.Background(), bob.ID, "pw-bob"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool {
		return b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).status == 401
	})
	p = b.login(as.srv.URL, "bob")
	b.do("GET", cs.srv.URL+"/api/admin", nil, bearer(p.Access)).want(t, 200, "")
}

func waitFor(t testing.TB, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuthServiceDown: with the auth service stopped, the proxied
// endpoints answer 503 remote_unavailable and write nothing, and tokens
// already issued keep verifying from the cached keys and revocation set
// (within MaxFeedLag).
func TestAuthServiceDown(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	as.user("carol", "staff")
	cs := newClientService(t, as, nil)
	b := newBrowser(t)
	p := b.login(cs.srv.URL, "alice")
	as.srv.Close()
	b.do("POST", cs.srv.URL+"/auth/token", map[string]string{"username": "carol", "password": "pw-carol"}, nil).want(t, 503, "remote_unavailable")
	b.do("POST", cs.srv.URL+"/auth/token/refresh", map[string]string{"refresh": p.Refresh}, nil).want(t, 503, "remote_unavailable")
	b.do("POST", cs.srv.URL+"/auth/token/verify", map[string]string{"token": p.Access}, nil).want(t, 503, "remote_unavailable")
	b.do("GET", cs.srv.URL+"/auth/sessions", nil, bearer(p.Access)).want(t, 503, "remote_unavailable")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	var n int64
	cs.db.Model(&users.User{}).Where("username = ?", "carol").Count(&n)
	if n != 0 {
		t.Fatal("carol was copied although her login failed")
	}
}

// TestAuthServiceFaults: a 5xx, a redirect, a malformed or oversized
// answer is 502, a slow one 504, a 503 is 503 — remote_unavailable each
// time, and the login writes nothing locally.
func TestAuthServiceFaults(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) { c.Timeout = 300 * time.Millisecond; c.MaxResponseBytes = 4096 })
	b := newBrowser(t)
	onLogin := func(f gin.HandlerFunc) gin.HandlerFunc {
		return func(c *gin.Context) {
			if c.Request.URL.Path == "/auth/token" {
				f(c)
			}
		}
	}
	for name, tc := range map[string]struct {
		f      gin.HandlerFunc
		status int
	}{
		"500":       {func(c *gin.Context) { c.String(500, "boom") }, 502},
		"502":       {func(c *gin.Context) { c.String(502, "") }, 502},
		"503":       {func(c *gin.Context) { c.JSON(503, ginjwt.ErrorBody{Error: "unavailable", Message: "db down"}) }, 503},
		"redirect":  {func(c *gin.Context) { c.Redirect(307, "http://127.0.0.1:1/elsewhere") }, 502},
		"malformed": {func(c *gin.Context) { c.Data(200, "application/json", []byte(`{"access":`)) }, 502},
		"no token":  {func(c *gin.Context) { c.JSON(200, map[string]string{"access": "x.y.z", "refresh": "a.b.c"}) }, 502},
		"huge": {func(c *gin.Context) {
			c.Data(200, "application/json", []byte(`{"access":"`+strings.Repeat("a", 10000)+`"}`))
		}, 502},
		"4xx junk": {func(c *gin.Context) { c.Data(401, "text/html", []byte("<h1>nope</h1>")) }, 502},
		"slow":     {func(c *gin.Context) { time.Sleep(time.Second); c.String(200, "{}") }, 504},
	} {
		as.setFault(onLogin(tc.f))
		r := b.do("POST", cs.srv.URL+"/auth/token", map[string]string{"username": "alice", "password": "pw-alice"}, nil)
		if r.status != tc.status || !strings.Contains(string(r.body), `"remote_unavailable"`) || strings.Contains(string(r.body), "boom") || strings.Contains(string(r.body), "db down") {
			t.Errorf("%s: %d %s, want %d remote_unavailable", name, r.status, r.body, tc.status)
		}
	}
	as.setFault(nil)
	var n int64
	cs.db.Model(&users.User{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d users copied by failed logins", n)
	}
	b.login(cs.srv.URL, "alice")
}

// TestJWKSRotation: after the auth service rotates to a new key, the
// client accepts its new tokens after one JWKS fetch, and tokens of a key
// removed on the auth service stop verifying after the next refresh.
func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) { c.KeyRefresh = 300 * time.Millisecond })
	b := newBrowser(t)
	old := b.login(as.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(old.Access)).want(t, 200, "")
	oldKid := as.auth.KeyIDs()[0]
	key, err := ginjwt.GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if err := as.auth.RotateKey(key); err != nil {
		t.Fatal(err)
	}
	before := cs.client.JWKSFetches()
	p := b.login(as.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	if got := cs.client.JWKSFetches() - before; got > 1 {
		t.Fatalf("%d JWKS fetches for one new key", got)
	}
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(old.Access)).want(t, 200, "")
	if err := as.auth.RemoveKey(oldKid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool {
		return b.do("GET", cs.srv.URL+"/api/test", nil, bearer(old.Access)).status == 401
	})
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
}

// TestRandomKidsCostOneFetch: 1,000 tokens naming random kids, sent at
// once, cost at most one JWKS fetch, and all are refused.
func TestRandomKidsCostOneFetch(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, nil)
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice")
	_, rest, _ := strings.Cut(p.Access, ".")
	before := cs.client.JWKSFetches()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	sem := make(chan struct{}, 32)
	for range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			kid := make([]byte, 12)
			_, _ = rand.Read(kid)
			h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": base64.RawURLEncoding.EncodeToString(kid)})
			token := base64.RawURLEncoding.EncodeToString(h) + "." + rest
			req, _ := http.NewRequest("GET", cs.srv.URL+"/api/test", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got := cs.client.JWKSFetches() - before; got > 1 {
		t.Fatalf("1,000 random kids cost %d JWKS fetches", got)
	}
	if statuses[401] != 1000 {
		t.Fatalf("answers: %v", statuses)
	}
}

// TestFeedCutOffFailsClosed: a client service that cannot read the feed
// for longer than MaxFeedLag refuses tokens issued before its last good
// read (503 remote_unavailable) and accepts newer ones; once the feed is
// back, the old tokens verify again.
func TestFeedCutOffFailsClosed(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) {
		c.FeedInterval, c.MaxFeedLag = 100*time.Millisecond, 700*time.Millisecond
	})
	b := newBrowser(t)
	old := b.login(cs.srv.URL, "alice")
	loggedIn := time.Now()
	waitFor(t, 3*time.Second, func() bool { return cs.client.LastSync().After(loggedIn) }) // a read after the token
	as.setFault(func(c *gin.Context) {
		if strings.HasSuffix(c.Request.URL.Path, "/revocations") {
			c.AbortWithStatus(http.StatusServiceUnavailable)
		}
	})
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(old.Access)).want(t, 200, "")
	time.Sleep(2100 * time.Millisecond) // past MaxFeedLag, and the fresh token's whole-second iat past the last good read by more than the 1 s margin
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(old.Access)).want(t, 503, "remote_unavailable")
	fresh := b.login(cs.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(fresh.Access)).want(t, 200, "")
	as.setFault(nil)
	waitFor(t, 2*time.Second, func() bool {
		return b.do("GET", cs.srv.URL+"/api/test", nil, bearer(old.Access)).status == 200
	})
}

// TestTLS: an auth service with a self-signed certificate is refused
// unless its CA is configured (or verification explicitly turned off).
func TestTLS(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, true, nil)
	as.user("alice", "staff")
	if _, err := tryClientService(t, as, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a self-signed auth service was trusted: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(as.srv.Certificate())
	cs := newClientService(t, as, func(c *remote.Config) { c.RootCAs = pool })
	newBrowser(t).login(cs.srv.URL, "alice")
	newClientService(t, as, func(c *remote.Config) { c.InsecureSkipVerify = true })
}

// TestWrongCredential: a client service with a wrong credential cannot
// read the feed, and so cannot start.
func TestWrongCredential(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	_, err := tryClientService(t, as, func(c *remote.Config) { c.Credential = strings.Repeat("w", 40) })
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Mount with a wrong credential: %v", err)
	}
}

// TestTwoCookieModeOnClient: the client service's browsers get its own
// cookies (two-cookie mode, CSRF) from the pair the auth service issued.
func TestTwoCookieModeOnClient(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) {
		c.Mode = ginjwt.TwoCookies
		c.Transport.Cookies.Insecure = true
		c.Transport.CSRF.Secret = []byte("client-service-csrf-secret-0123456789")
	})
	b := newBrowser(t)
	base := cs.srv.URL
	r := b.do("POST", base+"/auth/token", map[string]string{"username": "alice", "password": "pw-alice"}, nil)
	r.want(t, 200, "")
	var body struct {
		CSRFToken string `json:"csrf_token"`
	}
	r.json(t, &body)
	if body.CSRFToken == "" || strings.Contains(string(r.body), "eyJ") {
		t.Fatalf("login answer: %s", r.body)
	}
	b.do("GET", base+"/api/test", nil, nil).want(t, 200, "")
	b.do("POST", base+"/api/echo", "{}", nil).want(t, 403, "csrf_failed")
	csrf := http.Header{"X-Csrf-Token": {body.CSRFToken}}
	b.do("POST", base+"/api/echo", "{}", csrf).want(t, 200, "")
	b.do("POST", base+"/auth/token/refresh", nil, nil).want(t, 403, "csrf_failed")
	b.do("POST", base+"/auth/token/refresh", nil, csrf).want(t, 200, "")
	b.do("POST", base+"/auth/token/verify", "{}", nil).want(t, 200, "")
	b.do("DELETE", base+"/auth/token/logout", nil, csrf).want(t, 200, "")
	b.do("GET", base+"/api/test", nil, nil).want(t, 401, "token_missing")
}

// TestMountChecksConfig: a bad configuration is refused naming the field.
func TestMountChecksConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]remote.Config{
		"AuthURL":    {AuthURL: "ftp://x", Credential: credential},
		"Credential": {AuthURL: "http://127.0.0.1:1"},
		"DB":         {AuthURL: "http://127.0.0.1:1", Credential: credential},
	} {
		_, err := remote.Mount(gin.New(), cfg)
		if err == nil || !strings.Contains(err.Error(), "Config."+name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestForgedForwardedForDoesNotReachTheAuthService: a client of a client
// service left at gin's trust-everyone default cannot choose the address
// the auth service throttles and records by forging X-Forwarded-For; with
// the proxy trusted (Transport.TrustedProxies), the forwarded client is.
func TestForgedForwardedForDoesNotReachTheAuthService(t *testing.T) {
	as := newAuthService(t, false, nil)
	var (
		mu   sync.Mutex
		seen []string
	)
	as.auth.Subscribe(ginjwt.LoginFailed, func(_ context.Context, e ginjwt.Event) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, e.Request.ClientIP)
	})
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return ""
		}
		return seen[len(seen)-1]
	}
	creds := map[string]string{"username": "nobody", "password": "wrong password"}
	forged := http.Header{"X-Forwarded-For": {"203.0.113.9"}}

	open := newClientService(t, as, nil) // gin.New(): trusts every peer
	newBrowser(t).do(http.MethodPost, open.srv.URL+"/auth/token", creds, forged).want(t, http.StatusUnauthorized, "invalid_credentials")
	if got := last(); got != "127.0.0.1" {
		t.Errorf("the auth service saw the client as %q; the forged 203.0.113.9 must not pass, the peer 127.0.0.1 must", got)
	}

	behind := newClientService(t, as, func(c *remote.Config) { c.Transport.TrustedProxies = []string{"127.0.0.1"} })
	newBrowser(t).do(http.MethodPost, behind.srv.URL+"/auth/token", creds, forged).want(t, http.StatusUnauthorized, "invalid_credentials")
	if got := last(); got != "203.0.113.9" {
		t.Errorf("behind a trusted proxy the auth service saw %q, want the forwarded 203.0.113.9", got)
	}
}
