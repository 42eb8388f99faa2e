package admin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/admin"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// outsideIssuer is an outside issuer (as remote.NewIssuer with
// PermsClaim: "realm_access.roles" would be) whose verifier accepts any
// token and says: user sub, perms.
type outsideIssuer struct {
	iss   string
	sub   string
	perms []string
}

func (r *outsideIssuer) Issuer() string { return r.iss }
func (r *outsideIssuer) Verify(_ context.Context, token string) (*ginjwt.Claims, error) {
	return &ginjwt.Claims{ID: "ext-" + token[len(token)-6:], Type: ginjwt.AccessToken, Issuer: r.iss,
		UserID: r.sub, Subject: r.sub, Username: "someone-at-the-idp", Perms: r.perms,
		IssuedAt: time.Now().Add(-time.Second), ExpiresAt: time.Now().Add(5 * time.Minute)}, nil
}

func outsideToken(iss string) string {
	enc := func(v any) string { raw, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(raw) }
	return enc(map[string]string{"alg": "RS256", "kid": "k1"}) + "." + enc(map[string]string{"iss": iss, "jti": "x1"}) + ".c2lnbmF0dXJlLXN0dWI"
}

// TestOutsideTokenIsRefused: a token of another issuer whose user ID
// equals a local staff user's ID neither enters the pages as that user nor
// acts as them.
func TestOutsideTokenIsRefused(t *testing.T) {
	db := testdb.SQLite(t)
	iss := &outsideIssuer{iss: "https://idp.example", perms: []string{"admin"}}
	s := newSite(t, db, func(c *admin.Config) { c.Perm = "admin" }, func(c *ginjwt.Config) {
		c.Tokens.Issuers = []ginjwt.TokenVerifier{iss}
	})
	local := s.user("local-admin", func(u *users.User) { u.Perms = users.Perms{"admin"} })
	victim := s.user("victim", nil)
	s.login("victim", "ua", "192.0.2.5")
	iss.sub = local.ID // the provider's ID happens to equal a local one
	tok := outsideToken(iss.iss)

	w := s.get("/auth/admin/users", tok)
	isHTML(t, w, http.StatusForbidden)
	// Even with the CSRF token of the local user's session (bound to its
	// session ID, which the outside token may name too).
	lp := s.login("local-admin", "ua", "192.0.2.6")
	m := csrfRE.FindStringSubmatch(s.get("/auth/admin/users/new", lp.Access).Body.String())
	if m == nil {
		t.Fatal("no CSRF token on the local admin's page")
	}
	w = s.post("/auth/admin/users/"+victim.ID+"/deactivate", tok, url.Values{"csrf_token": {html.UnescapeString(m[1])}, "confirm": {"yes"}})
	isHTML(t, w, http.StatusForbidden)
	got, _ := s.store.Find(context.Background(), victim.ID)
	if !got.IsActive {
		t.Errorf("an outside token deactivated a local user (%d); audit trail blames the local staff user", w.Code)
	}
}

// TestPermHolderCannotTakeOverStrongerAccount: with Config.Perm, a user who
// holds only that permission cannot set the password of (and so become) an
// account that holds more, or is staff.
func TestPermHolderCannotTakeOverStrongerAccount(t *testing.T) {
	db := testdb.SQLite(t)
	s := newSite(t, db, func(c *admin.Config) { c.Perm = "support" })
	s.user("helpdesk", func(u *users.User) { u.Perms = users.Perms{"support"} })
	strong := s.user("finance-lead", func(u *users.User) {
		u.IsStaff = true
		u.Perms = users.Perms{"support", "billing:refund", "users:delete"}
	})
	hp := s.login("helpdesk", "ua", "192.0.2.1")
	token := s.csrf(hp.Access)
	w := s.post("/auth/admin/users/"+strong.ID+"/password", hp.Access,
		url.Values{"csrf_token": {token}, "confirm": {"yes"}, "password": {"helpdesk-owns-you-now"}})
	isHTML(t, w, http.StatusForbidden)
	if _, err := s.store.Authenticate(context.Background(), strong.Username, "helpdesk-owns-you-now"); err == nil {
		t.Errorf("a holder of only %q set the password of a staff user holding billing:refund, users:delete", "support")
	}
}

// TestStaffCannotChangeStaff: a staff member cannot reactivate another
// staff account that a superuser deactivated.
func TestStaffCannotChangeStaff(t *testing.T) {
	db := testdb.SQLite(t)
	s := newSite(t, db, nil)
	s.user("root", func(u *users.User) { u.IsSuperuser = true })
	s.user("alice", staff)
	bad := s.user("mallory", staff)
	rp := s.login("root", "ua", "192.0.2.1")
	ap := s.login("alice", "ua", "192.0.2.2")
	w := s.post("/auth/admin/users/"+bad.ID+"/deactivate", rp.Access, url.Values{"csrf_token": {s.csrf(rp.Access)}, "confirm": {"yes"}})
	isHTML(t, w, http.StatusSeeOther)
	w = s.post("/auth/admin/users/"+bad.ID+"/activate", ap.Access, url.Values{"csrf_token": {s.csrf(ap.Access)}, "confirm": {"yes"}})
	isHTML(t, w, http.StatusForbidden)
	got, _ := s.store.Find(context.Background(), bad.ID)
	if got.IsActive {
		t.Errorf("staff alice reactivated staff mallory whom a superuser deactivated (%d)", w.Code)
	}
}

// TestActionsAreLogged: every action is logged with who did it, from
// where, what and to whom, for records that outlast the revocation log.
func TestActionsAreLogged(t *testing.T) {
	db := testdb.SQLite(t)
	var logs bytes.Buffer
	s := newSite(t, db, func(c *admin.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	s.user("root", func(u *users.User) { u.IsSuperuser = true })
	rp := s.login("root", "ua", "192.0.2.1")
	tok := s.csrf(rp.Access)
	w := s.post("/auth/admin/users/new", rp.Access, url.Values{"csrf_token": {tok}, "confirm": {"yes"},
		"username": {"new-staff"}, "password": {"a-long-enough-password"}, "staff": {"yes"}})
	isHTML(t, w, http.StatusSeeOther)
	line := logs.String()
	// 198.51.100.7 is the address site.post sends from.
	for _, want := range []string{"ginjwt admin: action", "action=created", "actor=root", "ip=198.51.100.7", "target=/users/"} {
		if !strings.Contains(line, want) {
			t.Fatalf("the log of a user creation lacks %q: %s", want, line)
		}
	}
}

// TestSearchFindsExactUsername: searching a user's exact username
// finds them, whatever the letters.
func TestSearchFindsExactUsername(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		s.user("root", staff)
		s.user("Émile", nil)
		rp := s.login("root", "ua", "192.0.2.1")
		w := s.get("/auth/admin/users?q="+url.QueryEscape("Émile"), rp.Access)
		isHTML(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), "1 user(s)") {
			t.Errorf("searching the exact username %q does not find it", "Émile")
		}
	})
}

// TestArchiveConcurrentAndClose: concurrent starts make one run; a
// start after Close is refused rather than reported as started then failed.
func TestArchiveConcurrentAndClose(t *testing.T) {
	db := testdb.SQLite(t)
	s := newSite(t, db, nil)
	s.user("root", func(u *users.User) { u.IsSuperuser = true })
	rp := s.login("root", "ua", "192.0.2.1")
	tok := s.csrf(rp.Access)
	codes := make(chan int, 8)
	for range 8 {
		go func() {
			codes <- s.post("/auth/admin/housekeeping/archive", rp.Access, url.Values{"csrf_token": {tok}, "confirm": {"yes"}, "days": {"0"}}).Code
		}()
	}
	started := 0
	for range 8 {
		if c := <-codes; c == http.StatusSeeOther {
			started++
		}
	}
	t.Logf("concurrent starts accepted: %d of 8", started)
	_ = s.admin.Close(context.Background())
	w := s.post("/auth/admin/housekeeping/archive", rp.Access, url.Values{"csrf_token": {tok}, "confirm": {"yes"}, "days": {"0"}})
	time.Sleep(50 * time.Millisecond)
	page := s.get("/auth/admin/housekeeping/archive", rp.Access).Body.String()
	if w.Code == http.StatusSeeOther && strings.Contains(page, "stopped early") {
		t.Errorf("after Close a start is accepted (303 archive-started) and the run fails at once: %s", page[strings.Index(page, "archive-state"):][:160])
	}
}

// TestUnknownPageIsAPage: a path below the pages that none serves is a 404
// page, not ginjwt's JSON answer for its own prefix.
func TestUnknownPageIsAPage(t *testing.T) {
	s := newSite(t, testdb.SQLite(t), nil)
	s.user("root", staff)
	rp := s.login("root", "ua", "192.0.2.1")
	for _, path := range []string{"/auth/admin/nope", "/auth/admin/users/x/nope"} {
		w := s.get(path, rp.Access)
		isHTML(t, w, http.StatusNotFound)
	}
	// ginjwt's own unknown paths keep their JSON answer.
	w := s.get("/auth/nope", rp.Access)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"error":"not_found"`) {
		t.Fatalf("/auth/nope: %d %s", w.Code, w.Body)
	}
}

// TestStaffChangesOrdinaryAccounts: staff (the default gate) change any
// account that is neither staff nor superuser, whatever its permissions.
func TestStaffChangesOrdinaryAccounts(t *testing.T) {
	s := newSite(t, testdb.SQLite(t), nil)
	s.user("ops", staff)
	alice := s.user("alice", func(u *users.User) { u.Perms = users.Perms{"billing:refund"} })
	op := s.login("ops", "ua", "192.0.2.1")
	w := s.post("/auth/admin/users/"+alice.ID+"/password", op.Access,
		url.Values{"csrf_token": {s.csrf(op.Access)}, "confirm": {"yes"}, "password": {"a new long password"}})
	isHTML(t, w, http.StatusSeeOther)
	if _, err := s.store.Authenticate(context.Background(), "alice", "a new long password"); err != nil {
		t.Fatalf("the new password does not log alice in: %v", err)
	}
}

// TestNoSelfPasswordHere: the pages do not set the visitor's own password
// (no current password is asked): a borrowed session does not become the
// account for good.
func TestNoSelfPasswordHere(t *testing.T) {
	s := newSite(t, testdb.SQLite(t), nil)
	ops := s.user("ops", staff)
	op := s.login("ops", "ua", "192.0.2.1")
	w := s.post("/auth/admin/users/"+ops.ID+"/password", op.Access,
		url.Values{"csrf_token": {s.csrf(op.Access)}, "confirm": {"yes"}, "password": {"a new long password"}})
	isHTML(t, w, http.StatusBadRequest)
}
