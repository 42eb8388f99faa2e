package ginjwt

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

var agents = map[string]string{
	"Chrome 120 on macOS":    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Firefox 121 on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Safari 17 on iOS":       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
}

// TestSessionsShowDevices: three browsers, three labelled sessions with
// their IPs; revoking one kills only it.
func TestSessionsShowDevices(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) {
			c.Registry.Devices = true
			c.Transport.TrustedProxies = []string{"10.0.0.0/8"}
		})
		h.user("alice")
		var mu sync.Mutex
		var newDevices []string
		h.auth.Subscribe(NewDevice, func(_ context.Context, e Event) {
			mu.Lock()
			defer mu.Unlock()
			newDevices = append(newDevices, e.Device.Label()+" "+e.Request.ClientIP)
		})
		logins := []struct {
			label, remote, xff, ip string
		}{
			{"Chrome 120 on macOS", "203.0.113.7:5000", "", "203.0.113.7"},
			{"Firefox 121 on Windows", "[2001:db8::42]:443", "", "2001:db8::42"},
			// Behind a trusted proxy: the client from X-Forwarded-For.
			{"Safari 17 on iOS", "10.0.0.5:80", "198.51.100.23", "198.51.100.23"},
		}
		access := map[string]string{}
		for _, l := range logins {
			hdr := http.Header{"User-Agent": {agents[l.label]}}
			if l.xff != "" {
				hdr.Set("X-Forwarded-For", l.xff)
			}
			w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}, remote: l.remote, header: hdr})
			wantStatus(t, w, 200)
			var p pairBody
			decode(t, w, &p)
			access[l.label] = p.Access
			h.clock.Advance(time.Second)
		}
		// A second login from Chrome is not a new device.
		h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}, remote: "203.0.113.7:1", header: http.Header{"User-Agent": {agents["Chrome 120 on macOS"]}}})
		if got := strings.Join(newDevices, " | "); got != "Chrome 120 on macOS 203.0.113.7 | Firefox 121 on Windows 2001:db8::42 | Safari 17 on iOS 198.51.100.23" {
			t.Fatalf("NewDevice events: %s", got)
		}

		list := sessionsOf(t, h, access["Safari 17 on iOS"])
		if len(list) != 4 {
			t.Fatalf("%d sessions, want 4", len(list))
		}
		byLabel := map[string]sessionView{}
		for _, s := range list {
			if s.Device == nil {
				t.Fatalf("session without device: %+v", s)
			}
			byLabel[s.Device.Label] = s
		}
		for _, l := range logins {
			s, ok := byLabel[l.label]
			if !ok || s.IP != l.ip {
				t.Fatalf("%s: %+v (all %+v)", l.label, s, list)
			}
		}
		if !byLabel["Safari 17 on iOS"].Current || !byLabel["Safari 17 on iOS"].Device.Mobile {
			t.Fatalf("the calling session: %+v", byLabel["Safari 17 on iOS"])
		}

		ff := byLabel["Firefox 121 on Windows"]
		wantStatus(t, h.do(req{method: "DELETE", path: "/auth/sessions/" + ff.ID, bearer: access["Safari 17 on iOS"]}), 200)
		wantError(t, h.do(req{path: "/api/hello", bearer: access["Firefox 121 on Windows"]}), 401, "token_revoked")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: access["Chrome 120 on macOS"]}), 200)
		wantStatus(t, h.do(req{path: "/api/hello", bearer: access["Safari 17 on iOS"]}), 200)
		if n := len(sessionsOf(t, h, access["Safari 17 on iOS"])); n != 3 {
			t.Fatalf("%d sessions after revoking one, want 3", n)
		}
	})
}

// TestLastUsedWriteRate: 1,000 authenticated requests over 10 sessions in
// one interval write 10 rows, once, off the request path.
func TestLastUsedWriteRate(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) { c.Registry.ActivityEvery = time.Hour })
		h.user("alice")
		var tokens []string
		for range 10 {
			tokens = append(tokens, h.login("alice").Access)
		}
		reg := h.auth.Registry()
		for i := range 1000 {
			wantStatus(t, h.do(req{path: "/api/hello", bearer: tokens[i%10]}), 200)
			h.clock.Advance(time.Millisecond)
		}
		n, err := reg.FlushActivity(context.Background())
		if err != nil || n != 10 {
			t.Fatalf("flushed %d sessions (%v), want 10", n, err)
		}
		if n, _ := reg.FlushActivity(context.Background()); n != 0 {
			t.Fatalf("a second flush wrote %d", n)
		}
		var stamped int64
		h.db.Model(&registry.Token{}).Where("last_used_at IS NOT NULL AND parent_id IS NULL").Count(&stamped)
		if stamped != 10 {
			t.Fatalf("%d sessions carry last_used_at, want 10", stamped)
		}
		list := sessionsOf(t, h, tokens[0])
		for _, s := range list {
			if h.clock.Now().Sub(s.LastUsedAt.Time) > time.Minute {
				t.Fatalf("session %s last used %v, now %v", s.ID, s.LastUsedAt, h.clock.Now())
			}
		}
	})
}
