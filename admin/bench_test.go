package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// BenchmarkUserPage10kTokens renders the page of a user holding 10,000
// tokens (200 active sessions of 50 tokens: a refresh token and 49 access
// tokens each, with their device), of a user whose 10,000 tokens are one
// session (100 refresh tokens of 99 access tokens each), and that
// session's token tree, first and last page: each page is bounded to
// Config.PageSize rows (50).
func BenchmarkUserPage10kTokens(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			s := newSite(b, engine.open(b), nil)
			s.user("root", staff)
			alice := s.user("alice", nil)
			rp := s.login("root", "ua", "192.0.2.1")
			for i := range 200 {
				seedSession(b, s, alice.ID, fmt.Sprintf("sess-%03d", i), 50, 50)
			}
			bob := s.user("bob", nil)
			seedSession(b, s, bob.ID, "big", 10_000, 100)
			for _, page := range []struct {
				name, path, row string
				rows            int
			}{
				{"user", "/auth/admin/users/" + alice.ID, `<tr data-session="`, 50},
				{"user-one-session", "/auth/admin/users/" + bob.ID, `<tr data-session="`, 1},
				{"session", "/auth/admin/sessions/big", `<tr data-token="`, 50},
				{"session-last-page", "/auth/admin/sessions/big?page=200", `<tr data-token="`, 50},
			} {
				b.Run(page.name, func(b *testing.B) {
					var w *httptest.ResponseRecorder
					for b.Loop() {
						w = s.get(page.path, rp.Access)
					}
					if w.Code != http.StatusOK || strings.Count(w.Body.String(), page.row) != page.rows {
						b.Fatalf("%d, %d rows", w.Code, strings.Count(w.Body.String(), page.row))
					}
					b.ReportMetric(float64(w.Body.Len()), "bytes/page")
				})
			}
		})
	}
}
