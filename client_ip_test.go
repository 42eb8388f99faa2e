package ginjwt

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// ipProbe mounts ginjwt on e with edit applied, and returns a function that
// sends a failing login with the given peer and headers and reports the
// client address ginjwt recorded and the one c.ClientIP() gives.
func ipProbe(t *testing.T, e *gin.Engine, edit func(*Config)) (probe func(remote string, hdr http.Header) (ours, gins string), logs *bytes.Buffer, err error) {
	t.Helper()
	db := testdb.SQLite(t)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	logs = &bytes.Buffer{}
	cfg := Config{SigningKey: testSecret, DB: db, Registry: RegistryConfig{Disabled: true},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil)), Limits: Limits{Throttle: Throttle{Disabled: true}}}
	if edit != nil {
		edit(&cfg)
	}
	auth, err := Mount(e, cfg)
	if err != nil {
		return nil, logs, err
	}
	t.Cleanup(func() { auth.Close(context.Background()) })
	var (
		mu   sync.Mutex
		last string
	)
	auth.Subscribe(LoginFailed, func(_ context.Context, ev Event) {
		mu.Lock()
		defer mu.Unlock()
		last = ev.Request.ClientIP
	})
	var gins string
	e.GET("/ip", func(c *gin.Context) { gins = c.ClientIP() })
	return func(remote string, hdr http.Header) (string, string) {
		send := func(method, path, body string) {
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			r.RemoteAddr = remote
			for k, v := range hdr {
				r.Header[k] = v
			}
			if body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			e.ServeHTTP(httptest.NewRecorder(), r)
		}
		send(http.MethodPost, "/auth/token", `{"username":"nobody","password":"wrong password"}`)
		send(http.MethodGet, "/ip", "")
		mu.Lock()
		defer mu.Unlock()
		return last, gins
	}, logs, nil
}

// TestClientIPFollowsTheEngine: Mount leaves the engine's client-IP
// settings as the application made them, and ginjwt resolves clients as
// c.ClientIP() does: trusted proxies, TrustedPlatform, RemoteIPHeaders.
func TestClientIPFollowsTheEngine(t *testing.T) {
	t.Parallel()
	forged := http.Header{"X-Forwarded-For": {"203.0.113.9"}}

	t.Run("SetTrustedProxies", func(t *testing.T) {
		e := gin.New()
		if err := e.SetTrustedProxies([]string{"10.0.0.0/8"}); err != nil {
			t.Fatal(err)
		}
		probe, _, err := ipProbe(t, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ remote, want string }{{"10.1.1.1:1", "203.0.113.9"}, {"192.0.2.7:1", "192.0.2.7"}} {
			ours, gins := probe(tc.remote, forged)
			if ours != tc.want || gins != tc.want {
				t.Errorf("from %s: ginjwt %q, c.ClientIP() %q, want both %q", tc.remote, ours, gins, tc.want)
			}
		}
	})

	t.Run("TrustedPlatform", func(t *testing.T) {
		e := gin.New()
		e.TrustedPlatform = gin.PlatformCloudflare
		probe, _, err := ipProbe(t, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		ours, gins := probe("192.0.2.7:1", http.Header{"Cf-Connecting-Ip": {"198.51.100.4"}})
		if ours != "198.51.100.4" || gins != "198.51.100.4" {
			t.Errorf("ginjwt %q, c.ClientIP() %q, want both the platform's 198.51.100.4", ours, gins)
		}
	})

	t.Run("RemoteIPHeaders", func(t *testing.T) {
		e := gin.New()
		e.RemoteIPHeaders = []string{"X-Client-Ip"}
		if err := e.SetTrustedProxies([]string{"10.0.0.0/8"}); err != nil {
			t.Fatal(err)
		}
		probe, _, err := ipProbe(t, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		hdr := http.Header{"X-Client-Ip": {"198.51.100.5"}, "X-Forwarded-For": {"203.0.113.9"}}
		if ours, gins := probe("10.1.1.1:1", hdr); ours != "198.51.100.5" || gins != "198.51.100.5" {
			t.Errorf("ginjwt %q, c.ClientIP() %q, want both 198.51.100.5 from X-Client-Ip", ours, gins)
		}
	})

	t.Run("Config list on a default engine", func(t *testing.T) {
		e := gin.New()
		probe, _, err := ipProbe(t, e, func(c *Config) { c.Transport.TrustedProxies = []string{"10.0.0.0/8"} })
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ remote, want string }{{"10.1.1.1:1", "203.0.113.9"}, {"192.0.2.7:1", "192.0.2.7"}} {
			if ours, gins := probe(tc.remote, forged); ours != tc.want || gins != tc.want {
				t.Errorf("from %s: ginjwt %q, c.ClientIP() %q, want both %q", tc.remote, ours, gins, tc.want)
			}
		}
	})

	t.Run("both set", func(t *testing.T) {
		e := gin.New()
		if err := e.SetTrustedProxies([]string{"10.0.0.0/8"}); err != nil {
			t.Fatal(err)
		}
		_, _, err := ipProbe(t, e, func(c *Config) { c.Transport.TrustedProxies = []string{"172.16.0.0/12"} })
		if err == nil || !strings.Contains(err.Error(), "Config.Transport.TrustedProxies") {
			t.Fatalf("want an error naming Config.Transport.TrustedProxies, got %v", err)
		}
	})

	t.Run("gin's default", func(t *testing.T) {
		e := gin.New() // trusts every peer
		probe, logs, err := ipProbe(t, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		ours, gins := probe("192.0.2.7:1", forged)
		if ours != "192.0.2.7" {
			t.Errorf("ginjwt believed a forged X-Forwarded-For on gin's default engine: %q", ours)
		}
		if gins != "203.0.113.9" {
			t.Errorf("Mount changed the engine: c.ClientIP() %q, gin's default gives 203.0.113.9", gins)
		}
		if !strings.Contains(logs.String(), "SetTrustedProxies") {
			t.Errorf("no warning about gin's default: %q", logs.String())
		}
	})
}

// TestForwardedProtoFromEngineProxy: with the proxies set on the engine,
// a trusted proxy's X-Forwarded-Proto makes the origin https for the CSRF
// check, and the same header from another peer is ignored.
func TestForwardedProtoFromEngineProxy(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	if err := e.SetTrustedProxies([]string{"10.0.0.0/8"}); err != nil {
		t.Fatal(err)
	}
	auth, err := Mount(e, Config{SigningKey: testSecret, DB: db, Mode: OneCookie, Registry: RegistryConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close(context.Background()) })
	for _, tc := range []struct {
		remote string
		want   int
	}{{"10.0.0.1:443", http.StatusUnauthorized}, {"192.0.2.5:443", http.StatusForbidden}} {
		r := httptest.NewRequest(http.MethodPost, "http://example.com/auth/token", strings.NewReader(`{"username":"nobody","password":"wrong password"}`))
		r.RemoteAddr = tc.remote
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", "https://example.com")
		r.Header.Set("X-Forwarded-Proto", "https")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("from %s: %d %s, want %d", tc.remote, w.Code, w.Body, tc.want)
		}
	}
}
