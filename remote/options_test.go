package remote_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/remote"
)

// TestRemoteVerify: with RemoteVerify, a session logged out on the auth
// service is refused by the client service as soon as the cached answer
// ages out (RemoteVerifyTTL), long before the feed would tell it.
func TestRemoteVerify(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) {
		c.FeedInterval, c.MaxFeedLag = time.Hour, 2*time.Hour
		c.RemoteVerify, c.RemoteVerifyTTL = true, 200*time.Millisecond
	})
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	b.do("POST", as.srv.URL+"/auth/token/logout", map[string]string{"refresh": p.Refresh}, nil).want(t, 200, "")
	time.Sleep(250 * time.Millisecond)
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 401, "token_revoked")
	// The auth service down: RemoteVerify cannot tell, and says so.
	q := b.login(as.srv.URL, "alice")
	as.srv.Close()
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(q.Access)).want(t, 503, "remote_unavailable")
}

// TestSharedSecret: an auth service signing with HMAC publishes no keys;
// a client service given the same secret verifies its tokens.
func TestSharedSecret(t *testing.T) {
	t.Parallel()
	secret := []byte("a shared HMAC secret of at least 32 bytes")
	as := newAuthService(t, false, func(c *ginjwt.Config) { c.Keys, c.SigningKey = nil, secret })
	as.user("alice", "staff")
	if _, err := tryClientService(t, as, nil); err == nil {
		t.Fatal("a client service started on an empty JWKS")
	}
	cs := newClientService(t, as, func(c *remote.Config) { c.SharedSecret = secret })
	b := newBrowser(t)
	p := b.login(cs.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
}

// TestPlainHTTPOnlyToLoopback: an http:// AuthURL to a host that is not a
// loopback address is refused, naming InsecureHTTP; with it set, or to
// localhost, 127.0.0.0/8 or ::1, the URL is accepted.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	mount := func(url string, insecure bool) error {
		_, err := remote.Mount(gin.New(), remote.Config{AuthURL: url, Credential: credential, DB: db, InsecureHTTP: insecure,
			Timeout: 200 * time.Millisecond, Logger: quietLogger()})
		return err
	}
	for _, u := range []string{"http://auth.internal", "http://192.0.2.1:8000", "http://[2001:db8::1]", "http://localhost.evil.example"} {
		if err := mount(u, false); err == nil || !strings.Contains(err.Error(), "InsecureHTTP") {
			t.Errorf("%s: %v, want a refusal naming InsecureHTTP", u, err)
		}
		if err := mount(u, true); err == nil || strings.Contains(err.Error(), "InsecureHTTP") {
			t.Errorf("%s with InsecureHTTP: %v, want a failure to reach it", u, err)
		}
	}
	for _, u := range []string{"http://localhost:1", "http://127.0.0.2:1", "http://[::1]:1"} {
		if err := mount(u, false); err == nil || strings.Contains(err.Error(), "InsecureHTTP") {
			t.Errorf("%s: %v, want a failure to reach it", u, err)
		}
	}
}
