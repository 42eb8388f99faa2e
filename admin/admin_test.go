package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

func TestPagesRender(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		root := s.user("root", staff)
		alice := s.user("alice", func(u *users.User) { u.Email = "alice@example.com" })
		rp := s.login("root", firefoxUA, "192.0.2.10")
		ap := s.login("alice", iPhoneUA, "192.0.2.20")
		_ = ap
		sid := firstSession(t, s, alice.ID)
		for _, tc := range []struct {
			path string
			has  []string
		}{
			{"/auth/admin/users", []string{`id="user-search"`, `table class="users stack"`, `data-user="` + alice.ID + `"`, "alice@example.com", root.Username}},
			{"/auth/admin/users?q=ALICE", []string{`data-user="` + alice.ID + `"`}},
			{"/auth/admin/users?q=example.com", []string{`data-user="` + alice.ID + `"`}},
			{"/auth/admin/users/new", []string{`id="create-user"`, `name="csrf_token"`}},
			{"/auth/admin/users/" + alice.ID, []string{`table class="sessions stack"`, `data-session="` + sid + `"`, `form method="post"`, `class="revoke-session"`, "192.0.2.20", "Safari", `class="logout-everywhere"`, `class="deactivate"`, `class="set-password"`}},
			{"/auth/admin/sessions/" + sid, []string{`table class="tokens stack"`, "refresh", "access", "state-active"}},
			{"/auth/admin/devices", []string{`table class="devices stack"`, "iPhone"}},
			{"/auth/admin/networks", []string{`table class="networks stack"`, "192.0.2.20"}},
			{"/auth/admin/housekeeping", []string{`id="registry-stats"`, `id="archive-form"`}},
			{"/auth/admin/housekeeping/archive", []string{`data-state="none"`}},
			{"/auth/admin/audit", []string{`table class="audit stack"`}},
		} {
			w := s.get(tc.path, rp.Access)
			isHTML(t, w, http.StatusOK)
			contains(t, w, tc.has...)
			if strings.Contains(w.Body.String(), "<script") {
				t.Errorf("%s has a script element", tc.path)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("%s: CSP %q", tc.path, csp)
			}
		}
		// Device and network pages list the sessions that used them.
		w := s.get("/auth/admin/devices", rp.Access)
		m := deviceLink.FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatalf("no device link: %s", w.Body)
		}
		w = s.get("/auth/admin/devices/"+m[1], rp.Access)
		isHTML(t, w, http.StatusOK)
		contains(t, w, `table class="device-sessions stack"`, `data-session="`)
		w = s.get("/auth/admin/networks", rp.Access)
		m = networkLink.FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatalf("no network link: %s", w.Body)
		}
		w = s.get("/auth/admin/networks/"+m[1], rp.Access)
		isHTML(t, w, http.StatusOK)
		contains(t, w, `table class="device-sessions stack"`, `data-session="`)
		// The style sheet is served from the admin path, to anyone.
		w = s.get("/auth/admin/static/admin.css", "")
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") || !strings.Contains(w.Body.String(), "table") {
			t.Fatalf("css: %d %q", w.Code, w.Header().Get("Content-Type"))
		}
		// The root redirects to the users.
		if w := s.get("/auth/admin", rp.Access); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/admin/users" {
			t.Fatalf("root: %d %q", w.Code, w.Header().Get("Location"))
		}
	})
}

// firstSession returns the ID of the user's most recent active session.
func firstSession(t testing.TB, s *site, userID string) string {
	t.Helper()
	list, _, err := s.auth.Registry().SessionsPage(context.Background(), userID, 10, 0)
	if err != nil || len(list) == 0 {
		t.Fatalf("sessions of %s: %v, %v", userID, list, err)
	}
	return list[0].ID
}

func TestAccess(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		s.user("root", staff)
		s.user("boss", func(u *users.User) { u.IsSuperuser = true })
		alice := s.user("alice", nil)
		demoted := s.user("demoted", staff)
		rp := s.login("root", "ua", "192.0.2.1")
		bp := s.login("boss", "ua", "192.0.2.1")
		ap := s.login("alice", "ua", "192.0.2.1")
		dp := s.login("demoted", "ua", "192.0.2.1")
		if err := s.db.Model(&users.User{}).Where("id = ?", demoted.ID).Update("is_staff", false).Error; err != nil {
			t.Fatal(err)
		}
		paths := []string{"/auth/admin/users", "/auth/admin/users/" + alice.ID, "/auth/admin/audit", "/auth/admin/housekeeping", "/auth/admin/devices"}
		for _, p := range paths {
			isHTML(t, s.get(p, rp.Access), http.StatusOK)
			isHTML(t, s.get(p, bp.Access), http.StatusOK)
			w := s.get(p, ap.Access)
			isHTML(t, w, http.StatusForbidden)
			contains(t, w, "for staff")
			// Staff in the token, no longer in the database.
			isHTML(t, s.get(p, dp.Access), http.StatusForbidden)
			anonymous(t, s, s.get(p, ""))
			anonymous(t, s, s.get(p, "not-a-token"))
		}
		// Actions too.
		w := s.post("/auth/admin/users/"+alice.ID+"/logout-everywhere", ap.Access, url.Values{"confirm": {"yes"}})
		isHTML(t, w, http.StatusForbidden)
		anonymous(t, s, s.post("/auth/admin/users/"+alice.ID+"/logout-everywhere", "", url.Values{"confirm": {"yes"}}))
		if s.apiStatus(ap.Access) != http.StatusOK {
			t.Fatal("alice's token was revoked by a refused request")
		}
	})
}

// anonymous checks the answer to a request without a usable token: a
// redirect to the login form when ginjwt has one, 401 otherwise.
func anonymous(t testing.TB, s *site, w interface {
	Result() *http.Response
}) {
	t.Helper()
	res := w.Result()
	if s.auth.LoginURL("/") != "" {
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == "" {
			t.Fatalf("anonymous: %d %q, want 303 to the login form", res.StatusCode, res.Header.Get("Location"))
		}
		return
	}
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("anonymous: %d %q, want 401 HTML", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestRevokeSession(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		root := s.user("root", staff)
		alice := s.user("alice", nil)
		rp := s.login("root", "ua", "192.0.2.1")
		pairs := []pair{s.login("alice", "ua-1", "192.0.2.31"), s.login("alice", "ua-2", "192.0.2.32"), s.login("alice", "ua-3", "192.0.2.33")}
		victim := sessionOf(t, s, pairs[1].Access)
		token := s.csrf(rp.Access)
		path := "/auth/admin/sessions/" + url.PathEscape(victim) + "/revoke"

		// Without the CSRF token, or with a wrong one: 403, nothing done.
		isHTML(t, s.post(path, rp.Access, url.Values{"confirm": {"yes"}}), http.StatusForbidden)
		isHTML(t, s.post(path, rp.Access, url.Values{"confirm": {"yes"}, "csrf_token": {token + "x"}}), http.StatusForbidden)
		// Without the confirmation: the confirm page, nothing done.
		w := s.post(path, rp.Access, url.Values{"csrf_token": {token}})
		isHTML(t, w, http.StatusOK)
		contains(t, w, `id="confirm-form"`, `name="confirm"`, victim)
		for i, p := range pairs {
			if got := s.apiStatus(p.Access); got != http.StatusOK {
				t.Fatalf("session %d refused (%d) before the revocation", i, got)
			}
		}

		w = s.post(path, rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}})
		isHTML(t, w, http.StatusSeeOther)
		if loc := w.Header().Get("Location"); loc != "/auth/admin/users/"+alice.ID+"?done=session-revoked" {
			t.Fatalf("Location %q", loc)
		}
		for i, p := range pairs {
			want := http.StatusOK
			if i == 1 {
				want = http.StatusUnauthorized
			}
			if got := s.apiStatus(p.Access); got != want {
				t.Errorf("session %d: API answered %d, want %d", i, got, want)
			}
		}
		if s.refreshStatus(pairs[1].Refresh) != http.StatusUnauthorized {
			t.Error("the revoked session's refresh token still works")
		}
		// The user page no longer lists it; the tree shows it revoked.
		w = s.get("/auth/admin/users/"+alice.ID+"?done=session-revoked", rp.Access)
		contains(t, w, "The session was revoked.")
		if strings.Contains(w.Body.String(), `data-session="`+victim+`"`) {
			t.Error("the user page still lists the revoked session")
		}
		w = s.get("/auth/admin/sessions/"+url.PathEscape(victim), rp.Access)
		contains(t, w, "state-revoked", "("+registry.ReasonAdmin+")")
		// The audit trail says who and from where.
		w = s.get("/auth/admin/audit?subject="+url.QueryEscape(victim), rp.Access)
		contains(t, w, `data-entry="`, ">root</a>", "198.51.100.7", registry.ReasonAdmin)
		log, err := s.auth.Registry().RevocationLog(context.Background(), registry.LogQuery{Subject: victim})
		if err != nil || len(log) != 1 || log[0].ActorID == nil || *log[0].ActorID != root.ID || log[0].ActorIP == nil || *log[0].ActorIP != "198.51.100.7" {
			t.Fatalf("log = %+v, %v", log, err)
		}
		// Unknown and malformed sessions.
		isHTML(t, s.post("/auth/admin/sessions/nope/revoke", rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}}), http.StatusNotFound)
		isHTML(t, s.post("/auth/admin/sessions/"+strings.Repeat("x", 65)+"/revoke", rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}}), http.StatusBadRequest)
	})
}

// sessionOf returns the session ID of an access token.
func sessionOf(t testing.TB, s *site, access string) string {
	t.Helper()
	c, err := s.auth.ParseToken(access)
	if err != nil {
		t.Fatal(err)
	}
	return c.SessionID
}
