package remote_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/remote"
)

// manualFeed is a client that reads the feed only when told to.
func manualFeed(c *remote.Config) { c.FeedInterval, c.MaxFeedLag = time.Hour, 2*time.Hour }

// onFeed makes the auth service answer the revocation feed with f (f
// writes nothing: the real feed answers).
func onFeed(as *authService, f func(c *gin.Context)) {
	as.setFault(func(c *gin.Context) {
		if strings.HasSuffix(c.Request.URL.Path, "/revocations") {
			f(c)
		}
	})
}

// TestSnapshotKeepsALocalLogout: a logout applied here while a snapshot
// read is under way (the snapshot read the log before the logout
// committed) is still refused after the read.
func TestSnapshotKeepsALocalLogout(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, manualFeed)
	b := newBrowser(t)
	p := b.login(cs.srv.URL, "alice")
	read, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	onFeed(as, func(c *gin.Context) {
		if c.Query("since") != "0" {
			c.AbortWithStatusJSON(200, gin.H{"resync": true}) // start over: a snapshot
			return
		}
		if once.Swap(true) {
			return
		}
		rec := httptest.NewRecorder()
		as.engine.ServeHTTP(rec, c.Request)
		close(read)
		<-release
		c.Data(rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	})
	done := make(chan error, 1)
	go func() { done <- cs.client.Sync(context.Background()) }()
	<-read
	b.do("POST", cs.srv.URL+"/auth/token/logout", map[string]string{"refresh": p.Refresh}, nil).want(t, 200, "")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 401, "token_revoked")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 401, "token_revoked")
}

// TestIncompleteSnapshotKeepsTheSet: a feed that asks for a resync and then
// never ends its snapshot leaves the revocations held in place, and the
// last good read where it was.
func TestIncompleteSnapshotKeepsTheSet(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, manualFeed)
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice")
	b.do("POST", as.srv.URL+"/auth/token/logout", map[string]string{"refresh": p.Refresh}, nil).want(t, 200, "")
	if err := cs.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 401, "token_revoked")
	last := cs.client.LastSync()
	onFeed(as, func(c *gin.Context) {
		if c.Query("since") != "0" {
			c.AbortWithStatusJSON(200, gin.H{"resync": true})
			return
		}
		c.AbortWithStatusJSON(200, gin.H{"revocations": []any{}, "next": 0, "more": true})
	})
	_ = cs.client.Sync(context.Background())
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 401, "token_revoked")
	if !cs.client.LastSync().Equal(last) {
		t.Fatal("an incomplete read moved the last good read")
	}
}

// TestHeldUserCutOffFetchesOnce: a user's cut-off read again (each
// snapshot) makes the client fetch the user once, not on every read.
func TestHeldUserCutOffFetchesOnce(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	alice := as.user("alice", "staff")
	cs := newClientService(t, as, manualFeed)
	var fetches atomic.Int64
	as.setFault(func(c *gin.Context) {
		if strings.Contains(c.Request.URL.Path, "/users/"+alice.ID) {
			fetches.Add(1)
		}
		if strings.HasSuffix(c.Request.URL.Path, "/revocations") && c.Query("since") != "0" {
			c.AbortWithStatusJSON(200, gin.H{"resync": true}) // every read a snapshot
		}
	})
	if err := as.store.SetPassword(context.Background(), alice.ID, "pw-alice"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	if err := cs.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := b.login(as.srv.URL, "alice")
	for range 3 {
		b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
		if err := cs.client.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	if n := fetches.Load(); n != 1 {
		t.Fatalf("alice was fetched %d times, want 1", n)
	}
}

// TestFeedCutOffAllowsForClockSkew: the auth service's clock ahead of this
// one (by less than Leeway) does not make a token issued before the last
// good read pass for one issued after it when the feed is lost.
func TestFeedCutOffAllowsForClockSkew(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) {
		c.FeedInterval, c.MaxFeedLag = 100*time.Millisecond, 300*time.Millisecond
		c.Clock = func() time.Time { return time.Now().Add(-2 * time.Second) } // 2 s behind the auth service
		c.Leeway = 3 * time.Second
	})
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice")
	issued := time.Now()
	waitFor(t, 3*time.Second, func() bool { return cs.client.LastSync().Add(2 * time.Second).After(issued) }) // a read after the token
	onFeed(as, func(c *gin.Context) { c.AbortWithStatus(http.StatusServiceUnavailable) })
	time.Sleep(500 * time.Millisecond)
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 503, "remote_unavailable")
}
