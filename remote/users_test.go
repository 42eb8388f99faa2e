package remote_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/users"
)

// TestUsernameReusedOnTheAuthService: a username the auth service gave to
// another user (the first renamed) is written here although the first
// user's copy still holds it: that copy is renamed, and takes its new name
// when fetched again.
func TestUsernameReusedOnTheAuthService(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	first := as.user("alice", "staff")
	cs := newClientService(t, as, nil)
	b := newBrowser(t)
	b.login(cs.srv.URL, "alice")
	if err := as.db.Model(&users.User{}).Where("id = ?", first.ID).Updates(map[string]any{"username": "alice-old", "email": "alice-old@example.com"}).Error; err != nil {
		t.Fatal(err)
	}
	second := as.user("alice", "staff")
	p := b.login(cs.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	var got users.User
	if err := cs.db.First(&got, "username = ?", "alice").Error; err != nil || got.ID != second.ID {
		t.Fatalf("the copy named alice: %+v, %v; want %s", got, err, second.ID)
	}
	if err := cs.client.SyncUser(context.Background(), first.ID); err != nil {
		t.Fatal(err)
	}
	var old users.User
	if err := cs.db.First(&old, "id = ?", first.ID).Error; err != nil || old.Username != "alice-old" || old.Email != "alice-old@example.com" {
		t.Fatalf("the first user's copy: %+v, %v", old, err)
	}
}

// TestUserFetchOutlivesItsFirstCaller: the first request of a user whose
// client goes away while the user is fetched does not fail the requests
// waiting on the same fetch.
func TestUserFetchOutlivesItsFirstCaller(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	alice := as.user("alice", "staff")
	cs := newClientService(t, as, nil)
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice") // not copied to the client service yet
	as.setFault(func(c *gin.Context) {
		if strings.HasSuffix(c.Request.URL.Path, "/users/"+alice.ID) {
			time.Sleep(500 * time.Millisecond)
		}
	})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", cs.srv.URL+"/api/test", nil)
		req.Header.Set("Authorization", "Bearer "+p.Access)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
}
