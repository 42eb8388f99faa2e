package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestSessionLogin: with ginjwt's session login, an anonymous visitor is
// sent to the login form and back; a staff user logged in through the form
// uses the pages and their forms, whose CSRF token the middleware checks.
func TestSessionLogin(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil, withSessions)
		s.user("root", staff)
		alice := s.user("alice", nil)
		pairs := []pair{s.login("alice", "ua-1", "192.0.2.1"), s.login("alice", "ua-2", "192.0.2.2"), s.login("alice", "ua-3", "192.0.2.3")}

		b := s.browser()
		w := b.do(http.MethodGet, "/auth/admin/users?q=al", nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/login?next="+url.QueryEscape("/auth/admin/users?q=al") {
			t.Fatalf("anonymous: %d %q", w.Code, w.Header().Get("Location"))
		}
		w = b.do(http.MethodPost, "/auth/admin/users/"+alice.ID+"/logout-everywhere", url.Values{"confirm": {"yes"}})
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/auth/login") {
			t.Fatalf("anonymous POST: %d %q", w.Code, w.Header().Get("Location"))
		}
		b.login("root")
		w = b.do(http.MethodGet, "/auth/admin/users?q=al", nil)
		isHTML(t, w, http.StatusOK)
		contains(t, w, `data-user="`+alice.ID+`"`, "Signed in as root")
		// The non-staff user's session is refused.
		nb := s.browser()
		nb.login("alice")
		isHTML(t, nb.do(http.MethodGet, "/auth/admin/users", nil), http.StatusForbidden)

		token := b.csrf()
		victim := sessionOf(t, s, pairs[0].Access)
		path := "/auth/admin/sessions/" + victim + "/revoke"
		// Missing or wrong CSRF token: 403 from the middleware's check.
		isHTML(t, b.do(http.MethodPost, path, url.Values{"confirm": {"yes"}}), http.StatusForbidden)
		isHTML(t, b.do(http.MethodPost, path, url.Values{"confirm": {"yes"}, "csrf_token": {wrong(token)}}), http.StatusForbidden)
		if s.apiStatus(pairs[0].Access) != http.StatusOK {
			t.Fatal("revoked by a forged request")
		}
		// Alice's own token and CSRF token do not work for her either.
		isHTML(t, nb.do(http.MethodPost, path, url.Values{"confirm": {"yes"}, "csrf_token": {nb.csrfOf()}}), http.StatusForbidden)

		w = b.do(http.MethodPost, path, url.Values{"confirm": {"yes"}, "csrf_token": {token}})
		isHTML(t, w, http.StatusSeeOther)
		for i, p := range pairs {
			want := http.StatusOK
			if i == 0 {
				want = http.StatusUnauthorized
			}
			if got := s.apiStatus(p.Access); got != want {
				t.Errorf("session %d: %d, want %d", i, got, want)
			}
		}
		// Set the password: every session of alice is refused, her browser's too.
		w = b.do(http.MethodPost, "/auth/admin/users/"+alice.ID+"/password", url.Values{"confirm": {"yes"}, "csrf_token": {token}, "password": {"another-long-password"}})
		isHTML(t, w, http.StatusSeeOther)
		for i, p := range pairs {
			if got := s.apiStatus(p.Access); got != http.StatusUnauthorized {
				t.Errorf("session %d after the password change: %d", i, got)
			}
		}
		if w := nb.do(http.MethodGet, "/api/hello", nil); w.Code != http.StatusUnauthorized {
			t.Errorf("alice's browser session after the password change: %d", w.Code)
		}
		// The audit trail has root and the browser's address.
		w = b.do(http.MethodGet, "/auth/admin/audit", nil)
		contains(t, w, ">root</a>", "198.51.100.8")
	})
}

// wrong is token with its last character changed.
func wrong(token string) string {
	last := "A"
	if strings.HasSuffix(token, "A") {
		last = "B"
	}
	return token[:len(token)-1] + last
}
