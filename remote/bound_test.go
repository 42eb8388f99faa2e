package remote_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/remote"
)

// TestClientServiceRevocationBound: a client service holds at most
// MaxRevocations revocations. Past the bound it forgets the oldest, and a
// token issued before the latest forgotten one is checked with the auth
// service: a revoked one is still refused, a live one accepted, and with
// the auth service down such a token is 503, never accepted unchecked.
func TestClientServiceRevocationBound(t *testing.T) {
	ctx := context.Background()
	as := newAuthService(t, false, nil)
	as.user("alice", "admin")
	cs := newClientService(t, as, func(c *remote.Config) { c.MaxRevocations = 10 })
	b := newBrowser(t)

	live1 := b.login(cs.srv.URL, "alice") // issued before everything below
	live2 := b.login(cs.srv.URL, "alice")
	var revoked []pair
	for range 25 {
		p := b.login(cs.srv.URL, "alice")
		claims, err := as.auth.ParseToken(p.Access)
		if err != nil {
			t.Fatal(err)
		}
		if err := as.auth.RevokeSession(ctx, claims.SessionID, "test"); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, p)
	}
	if err := cs.client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := cs.client.Forgotten(); n == 0 {
		t.Fatal("25 revocations in a set bounded at 10 forgot none")
	}
	for _, p := range revoked {
		b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, http.StatusUnauthorized, "token_revoked")
	}
	b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, bearer(live1.Access)).want(t, http.StatusOK, "")

	// The auth service down: memory cannot vouch for a token it has not
	// asked about, and does not accept it unchecked.
	as.setFault(func(c *gin.Context) { c.AbortWithStatus(http.StatusServiceUnavailable) })
	b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, bearer(live2.Access)).want(t, http.StatusServiceUnavailable, "remote_unavailable")
	as.setFault(nil)
	b.do(http.MethodGet, cs.srv.URL+"/api/test", nil, bearer(live2.Access)).want(t, http.StatusOK, "")
}
