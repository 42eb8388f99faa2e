package remote_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/remote"
)

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formBrowser is a browser that stops at redirects, to see where they go.
func formBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// loginByForm fetches the client service's login form and posts it back.
func loginByForm(t *testing.T, b *browser, base, name, password string) result {
	t.Helper()
	page := b.do(http.MethodGet, base+"/auth/login", nil, nil)
	m := csrfField.FindSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("login form: %d %s", page.status, page.body)
	}
	form := url.Values{"username": {name}, "password": {password}, "next": {"/api/test"}, ginjwt.CSRFField: {string(m[1])}}
	return b.do(http.MethodPost, base+"/auth/login", form.Encode(), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {base}})
}

// TestClientServiceFormLogin: a client service's login form authenticates
// against the central auth service, writes the local copy (with its extra
// data), and the session it starts is refused once the auth service
// revokes it; with the auth service down the form answers 503.
func TestClientServiceFormLogin(t *testing.T) {
	as := newAuthService(t, false, nil)
	alice := as.user("alice", "admin")
	cs := newClientService(t, as, func(c *remote.Config) {
		c.SessionLogin.Enabled = true
		c.Transport.Cookies.Insecure = true
		c.Transport.CSRF.Secret = []byte("client-service-csrf-secret-32-bytes!!")
	})
	b := formBrowser(t)

	wrong := loginByForm(t, b, cs.srv.URL, "alice", "nope")
	if wrong.status != http.StatusUnauthorized || !strings.Contains(string(wrong.body), "no active account matches") {
		t.Fatalf("a wrong password: %d %s", wrong.status, wrong.body)
	}

	ok := loginByForm(t, b, cs.srv.URL, "alice", "pw-alice")
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/api/test" {
		t.Fatalf("login: %d %v %s", ok.status, ok.header, ok.body)
	}
	b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, nil).want(t, http.StatusOK, "")
	// The local copy and its access group came from the auth service.
	b.do(http.MethodGet, cs.srv.URL+"/api/admin", nil, nil).want(t, http.StatusOK, "")

	// The logout form ends the session at the auth service too: a copy of
	// the cookies taken before it is refused.
	thief := formBrowser(t)
	u, _ := url.Parse(cs.srv.URL)
	thief.http.Jar.SetCookies(u, b.http.Jar.Cookies(u))
	thief.do(http.MethodGet, cs.srv.URL+"/api/test", nil, nil).want(t, http.StatusOK, "")
	var csrf string
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == "csrftoken" {
			csrf = c.Value
		}
	}
	out := b.do(http.MethodPost, cs.srv.URL+"/auth/logout", url.Values{ginjwt.CSRFField: {csrf}}.Encode(), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {cs.srv.URL}})
	out.want(t, http.StatusSeeOther, "")
	thief.do(http.MethodGet, cs.srv.URL+"/api/test", nil, nil).want(t, http.StatusUnauthorized, "token_revoked")
	var live struct{ Sessions []any }
	p := newBrowser(t).login(as.srv.URL, "alice")
	newBrowser(t).do(http.MethodGet, as.srv.URL+"/auth/sessions", nil, bearer(p.Access)).json(t, &live)
	if len(live.Sessions) != 1 { // the one just opened to look
		t.Fatalf("sessions at the auth service after the form logout: %d", len(live.Sessions))
	}

	// Revoked centrally: refused here once the feed has it.
	loginByForm(t, b, cs.srv.URL, "alice", "pw-alice").want(t, http.StatusSeeOther, "")
	if err := as.auth.LogoutEverywhere(context.Background(), alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := cs.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, nil).want(t, http.StatusUnauthorized, "token_revoked")

	as.setFault(func(c *gin.Context) { c.AbortWithStatus(http.StatusServiceUnavailable) })
	down := loginByForm(t, formBrowser(t), cs.srv.URL, "alice", "pw-alice")
	if down.status != http.StatusServiceUnavailable || down.header.Get("Retry-After") == "" {
		t.Fatalf("auth service down: %d %v", down.status, down.header)
	}
	as.setFault(nil)
	loginByForm(t, formBrowser(t), cs.srv.URL, "alice", "pw-alice").want(t, http.StatusSeeOther, "")
}

// TestClientServiceSessionLoginNeedsASecret: a client service verifies
// with public keys only, so nothing to key its session cookies can be
// derived: Mount says what to set.
func TestClientServiceSessionLoginNeedsASecret(t *testing.T) {
	as := newAuthService(t, false, nil)
	_, err := tryClientService(t, as, func(c *remote.Config) { c.SessionLogin.Enabled = true })
	if err == nil || !strings.Contains(err.Error(), "CSRF.Secret") {
		t.Fatalf("err = %v, want one naming Transport.CSRF.Secret", err)
	}
}

// TestClientServiceSessionRenewal: once the access token of a client
// service's session expires, the session is renewed at the auth service
// (the permissions reloaded there) and goes on: with the auth service
// rotating refresh tokens or not, and with RemoteVerify asking it about
// the new access token (not the expired one).
func TestClientServiceSessionRenewal(t *testing.T) {
	for _, tc := range []struct {
		name         string
		noRotation   bool
		remoteVerify bool
	}{{"rotation", false, false}, {"no rotation", true, false}, {"remote verify", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newAuthService(t, false, func(c *ginjwt.Config) {
				// Two seconds: exp is whole seconds, rounded down, so a
				// one-second token issued late in a second arrives expired.
				c.Tokens.AccessTTL = 2 * time.Second
				c.Tokens.DisableRefreshRotation = tc.noRotation
			})
			as.user("alice", "admin", "perm1")
			cs := newClientService(t, as, func(c *remote.Config) {
				c.SessionLogin.Enabled = true
				c.RemoteVerify = tc.remoteVerify
				c.Transport.Cookies.Insecure = true
				c.Transport.CSRF.Secret = []byte("client-service-csrf-secret-32-bytes!!")
			})
			cs.engine.GET("/api/perm1", ginjwt.RequirePerms("perm1"), func(c *gin.Context) { c.JSON(200, "perm1") })
			b := formBrowser(t)
			loginByForm(t, b, cs.srv.URL, "alice", "pw-alice").want(t, http.StatusSeeOther, "")
			b.do(http.MethodGet, cs.srv.URL+"/api/perm1", nil, nil).want(t, http.StatusOK, "")
			u, _ := as.store.FindByUsername(context.Background(), "alice")
			if err := as.store.SetPerms(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3100 * time.Millisecond) // past the access token's exp
			b.do(http.MethodGet, cs.srv.URL+"/api/perm1", nil, nil).want(t, http.StatusForbidden, "permission_denied")
			b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, nil).want(t, http.StatusOK, "")
		})
	}
}

// TestClientServiceSessionsMethods: the sessions endpoints of a client
// service answer another method 405 with Allow, as the auth service's do,
// and refuse a body.
func TestClientServiceSessionsMethods(t *testing.T) {
	as := newAuthService(t, false, nil)
	as.user("alice", "admin")
	cs := newClientService(t, as, nil)
	b := newBrowser(t)
	p := b.login(cs.srv.URL, "alice")
	r := b.do(http.MethodPut, cs.srv.URL+"/auth/sessions", nil, bearer(p.Access))
	r.want(t, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := r.header.Get("Allow"); allow != "DELETE, GET" {
		t.Fatalf("Allow: %q", allow)
	}
	b.do(http.MethodGet, cs.srv.URL+"/auth/sessions", nil, bearer(p.Access)).want(t, http.StatusOK, "")
	b.do(http.MethodDelete, cs.srv.URL+"/auth/sessions/x", map[string]string{"a": "b"}, bearer(p.Access)).want(t, http.StatusRequestEntityTooLarge, "body_too_large")
}
