package remote_test

import (
	"context"
	"testing"

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
