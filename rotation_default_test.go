package ginjwt

import (
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestRotationIsOnByDefault: a zero Config rotates refresh tokens (RFC 9700
// §4.14.2), two tabs refreshing with one token within ReuseGrace stay
// logged in on one branch, and the old token presented after the grace
// revokes the session.
func TestRotationIsOnByDefault(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		if !h.auth.cfg.rotate {
			t.Fatal("the effective RotateRefresh is off in a zero Config")
		}
		h.user("alice")
		p := h.login("alice")

		var tab1, tab2 pairBody
		w := h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
		wantStatus(t, w, 200)
		decode(t, w, &tab1)
		if tab1.Refresh == "" || tab1.Refresh == p.Refresh {
			t.Fatalf("a refresh did not rotate: %+v", tab1)
		}
		// The second tab, within the grace: the same new refresh token.
		w = h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
		wantStatus(t, w, 200)
		decode(t, w, &tab2)
		if tab2.Refresh != tab1.Refresh {
			t.Fatal("two tabs within the grace ended up on two branches")
		}
		wantStatus(t, h.do(req{path: "/api/hello", bearer: tab1.Access}), 200)
		wantStatus(t, h.do(req{path: "/api/hello", bearer: tab2.Access}), 200)

		// The old token after the grace: theft; the session is revoked.
		h.clock.Advance(h.auth.cfg.Tokens.ReuseGrace + time.Second)
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(tab1.Refresh)}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/api/hello", bearer: tab1.Access}), 401, "token_revoked")
	})
}

// TestDisableRefreshRotation: the off switch gives the old behaviour: no new
// refresh token, and the one presented keeps working.
func TestDisableRefreshRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Tokens.DisableRefreshRotation = true })
	if h.auth.cfg.rotate {
		t.Fatal("the effective RotateRefresh is on with DisableRefreshRotation")
	}
	h.user("alice")
	p := h.login("alice")
	for range 3 {
		w := h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
		wantStatus(t, w, 200)
		var r pairBody
		decode(t, w, &r)
		if r.Access == "" || r.Refresh != "" {
			t.Fatalf("refresh answered %+v", r)
		}
		h.clock.Advance(time.Minute) // past any grace: still no reuse
	}
}

// TestRotationConfig: the deprecated RotateRefresh still compiles and
// agrees with the default; sliding tokens are not refused for the default;
// both switches at once are an error naming them.
func TestRotationConfig(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg    Config
		rotate bool
		err    string
	}{
		"default":                  {Config{}, true, ""},
		"deprecated RotateRefresh": {Config{RotateRefresh: true}, true, ""},
		"off":                      {Config{Tokens: Tokens{DisableRefreshRotation: true}}, false, ""},
		"sliding":                  {Config{Tokens: Tokens{Sliding: true}}, false, ""},
		"sliding, off":             {Config{Tokens: Tokens{Sliding: true, DisableRefreshRotation: true}}, false, ""},
		"sliding, RotateRefresh":   {Config{RotateRefresh: true, Tokens: Tokens{Sliding: true}}, false, "Config.Tokens.Sliding"},
		"both switches":            {Config{RotateRefresh: true, Tokens: Tokens{DisableRefreshRotation: true}}, false, "Config.Tokens.DisableRefreshRotation"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.SigningKey, cfg.Routes.Paths.Obtain = testSecret, "-"
			a, err := New(cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want an error naming %s, got %v", tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.cfg.rotate != tc.rotate {
				t.Fatalf("effective RotateRefresh %v, want %v", a.cfg.rotate, tc.rotate)
			}
		})
	}
}
