package ginjwt

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

// TestLastUsedAdvances: a session's last_used_at is written once it is
// used (its login's time: its first requests come within ActivityEvery of
// the token's issue), not again within ActivityEvery however many requests
// come, and moves forward with the first request after the interval; GET
// /auth/sessions shows it.
func TestLastUsedAdvances(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) {
			c.Registry.ActivityEvery = time.Hour
			c.Tokens.AccessTTL = 2 * time.Hour
		})
		h.user("alice")
		p := h.login("alice")
		reg := h.auth.Registry()
		ctx := context.Background()
		stored := func() time.Time {
			t.Helper()
			var root registry.Token
			if err := h.db.Where("parent_id IS NULL").First(&root).Error; err != nil {
				t.Fatal(err)
			}
			if root.LastUsedAt == nil {
				return time.Time{}
			}
			return *root.LastUsedAt
		}
		flush := func(want int) {
			t.Helper()
			if n, err := reg.FlushActivity(ctx); err != nil || n != want {
				t.Fatalf("FlushActivity = %d, %v; want %d sessions written", n, err, want)
			}
		}

		if got := stored(); !got.IsZero() {
			t.Fatalf("last_used_at before any request = %v, want none", got)
		}
		t0 := h.clock.Now()
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
		flush(1)
		if got := stored(); !got.Equal(t0) {
			t.Fatalf("last_used_at after a request = %v, want %v", got, t0)
		}

		for range 10 { // within the interval: nothing more to write
			h.clock.Advance(5 * time.Minute)
			wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
		}
		flush(0)
		if got := stored(); !got.Equal(t0) {
			t.Fatalf("last_used_at after requests within the interval = %v, want %v still", got, t0)
		}

		h.clock.Advance(10*time.Minute + time.Second) // 61 minutes after t0
		t1 := h.clock.Now()
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
		flush(1)
		if got := stored(); !got.Equal(t1) {
			t.Fatalf("last_used_at after the interval = %v, want %v", got, t1)
		}
		list := sessionsOf(t, h, p.Access)
		if len(list) != 1 || !list[0].LastUsedAt.Equal(t1) {
			t.Fatalf("GET /auth/sessions = %+v, want one session last used at %v", list, t1)
		}
	})
}
