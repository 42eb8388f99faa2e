package main

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

func TestUserCommands(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		dsn, check := migrated(t, db)
		store := users.NewStore(check)

		out := must(t, "s3cret-pass\n", "user", "create", "-db", dsn, "-username", "alice", "-email", "Alice@Example.com", "-password-stdin", "-perms", "perm1, admin", "-staff")
		if !strings.Contains(out, "created user alice (id ") {
			t.Fatalf("user create: %q", out)
		}
		if code, _, stderr := cli(t, "other-pass\n", "user", "create", "-db", dsn, "-username", "alice", "-password-stdin"); code != 1 || !strings.Contains(stderr, "taken") {
			t.Fatalf("duplicate user: %d %q", code, stderr)
		}
		u, err := store.Authenticate(ctx, "alice@example.com", "s3cret-pass")
		if err != nil {
			t.Fatalf("authenticate the created user: %v", err)
		}
		if !u.IsActive || !u.IsStaff || u.IsSuperuser || !u.HasPerms("perm1", "admin") || u.Email != "alice@example.com" {
			t.Fatalf("created user = %+v", u)
		}

		// The password policy: 8 characters unless configured.
		code, _, stderr := cli(t, "pw\n", "user", "create", "-db", dsn, "-username", "bob", "-password-stdin")
		if code != 1 || !strings.Contains(stderr, "the password is too short: it must be at least 8 characters long") {
			t.Fatalf("a 2-character password: %d %q", code, stderr)
		}
		if _, err := store.FindByUsername(ctx, "bob"); err == nil {
			t.Fatal("a refused user was stored")
		}
		t.Setenv("GINJWT_MIN_PASSWORD_LENGTH", "12")
		if code, _, stderr := cli(t, "elevenchars\n", "user", "create", "-db", dsn, "-username", "bob", "-password-stdin"); code != 1 || !strings.Contains(stderr, "at least 12 characters") {
			t.Fatalf("$GINJWT_MIN_PASSWORD_LENGTH=12: %d %q", code, stderr)
		}
		must(t, "bobs\n", "user", "create", "-db", dsn, "-username", "bob", "-password-stdin", "-min-password-length", "4", "-inactive")
		t.Setenv("GINJWT_MIN_PASSWORD_LENGTH", "")
		// A name that would reorder the terminal's text is shown quoted.
		must(t, "long enough\n", "user", "create", "-db", dsn, "-username", "mallory\u202egnp.exe", "-password-stdin")

		// list: a table, pages, search, status, JSON.
		out = must(t, "", "user", "list", "-db", dsn)
		for _, want := range []string{"USERNAME", "alice", "alice@example.com", "bob", `"mallory\u202egnp.exe"`, "1–3 of 3"} {
			if !strings.Contains(out, want) {
				t.Fatalf("user list: no %q in\n%s", want, out)
			}
		}
		if strings.Contains(out, "\u202e") {
			t.Fatal("user list printed a bidirectional override")
		}
		out = must(t, "", "user", "list", "-db", dsn, "-limit", "1", "-offset", "1")
		if !strings.Contains(out, "bob") || strings.Contains(out, "alice") || !strings.Contains(out, "2–2 of 3; next page: -offset 2") {
			t.Fatalf("second page:\n%s", out)
		}
		var page struct {
			Users []map[string]any `json:"users"`
			Total int              `json:"total"`
		}
		decodeJSON(t, must(t, "", "user", "list", "-db", dsn, "-search", "EXAMPLE", "-json"), &page)
		if page.Total != 1 || len(page.Users) != 1 || page.Users[0]["username"] != "alice" || page.Users[0]["password_hash"] != nil {
			t.Fatalf("user list -search -json: %+v", page)
		}
		decodeJSON(t, must(t, "", "user", "list", "-db", dsn, "-status", "inactive", "-json"), &page)
		if page.Total != 1 || page.Users[0]["username"] != "bob" {
			t.Fatalf("user list -status inactive: %+v", page)
		}

		// show
		out = must(t, "", "user", "show", "-db", dsn, "-username", "alice")
		for _, want := range []string{"username:", "alice", "perms:", "perm1, admin", "staff:", "active sessions:"} {
			if !strings.Contains(out, want) {
				t.Fatalf("user show: no %q in\n%s", want, out)
			}
		}
		var shown struct {
			User     users.User `json:"user"`
			Sessions int        `json:"active_sessions"`
		}
		decodeJSON(t, must(t, "", "user", "show", "-db", dsn, "-user-id", u.ID, "-json"), &shown)
		if shown.User.ID != u.ID || shown.User.Username != "alice" || shown.Sessions != 0 {
			t.Fatalf("user show -json: %+v", shown)
		}
		if code, _, stderr := cli(t, "", "user", "show", "-db", dsn, "-username", "nobody"); code != 1 || !strings.Contains(stderr, "no user is named nobody") {
			t.Fatalf("show nobody: %d %q", code, stderr)
		}

		// set-password: the policy, then a cut-off in the revocation log.
		if code, _, stderr := cli(t, "short\n", "user", "set-password", "-db", dsn, "-username", "alice", "-password-stdin"); code != 1 || !strings.Contains(stderr, "at least 8 characters") {
			t.Fatalf("set-password short: %d %q", code, stderr)
		}
		if len(revocations(t, check, registry.KindUser, u.ID)) != 0 {
			t.Fatal("a refused password change cut the user off")
		}
		must(t, "n3w-pass-word\r\n", "user", "set-password", "-db", dsn, "-username", "alice", "-password-stdin")
		if _, err := store.Authenticate(ctx, "alice", "s3cret-pass"); err == nil {
			t.Fatal("the old password still works")
		}
		if u, err = store.Authenticate(ctx, "alice", "n3w-pass-word"); err != nil || u.PasswordChangedAt == nil {
			t.Fatalf("new password: %v, %+v", err, u)
		}
		if n := len(revocations(t, check, registry.KindUser, u.ID)); n != 1 {
			t.Fatalf("%d cut-offs in the revocation log after set-password; want 1", n)
		}

		// deactivate / activate
		out = must(t, "", "user", "deactivate", "-db", dsn, "-username", "alice")
		if !strings.Contains(out, "deactivated alice") {
			t.Fatalf("deactivate: %q", out)
		}
		if got, _ := store.Find(ctx, u.ID); got.IsActive {
			t.Fatal("still active")
		}
		if n := len(revocations(t, check, registry.KindUser, u.ID)); n != 2 {
			t.Fatalf("%d cut-offs in the revocation log after deactivate; want 2", n)
		}
		if _, err := store.Authenticate(ctx, "alice", "n3w-pass-word"); err == nil {
			t.Fatal("a deactivated user logs in")
		}
		if out := must(t, "", "user", "show", "-db", dsn, "-username", "alice"); !strings.Contains(out, "active:            no") {
			t.Fatalf("show after deactivate:\n%s", out)
		}
		if out := must(t, "", "user", "activate", "-db", dsn, "-username", "alice"); !strings.Contains(out, "activated alice") {
			t.Fatalf("activate: %q", out)
		}
		if out := must(t, "", "user", "activate", "-db", dsn, "-username", "alice"); !strings.Contains(out, "alice is active already") {
			t.Fatalf("activate twice: %q", out)
		}
		if _, err := store.Authenticate(ctx, "alice", "n3w-pass-word"); err != nil {
			t.Fatalf("a reactivated user cannot log in: %v", err)
		}
		if n := len(revocations(t, check, registry.KindUser, u.ID)); n != 2 {
			t.Fatalf("activation wrote to the revocation log: %d cut-offs", n)
		}
		if code, _, stderr := cli(t, "", "user", "deactivate", "-db", dsn, "-user-id", "no-such-id"); code != 1 || !strings.Contains(stderr, "no user has the ID no-such-id") {
			t.Fatalf("deactivate an unknown ID: %d %q", code, stderr)
		}
	})
}

// Deactivating a user from the CLI, another process for all a running
// service knows, refuses the tokens the service issued before: there, and
// in a registry that starts afterwards.
func TestDeactivateRefusesTokens(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		dsn, _ := migrated(t, db)
		must(t, "correct horse\n", "user", "create", "-db", dsn, "-username", "alice", "-password-stdin")
		s := startService(t, dsn)
		access, refresh := s.login("alice", "correct horse", "")
		if code, _ := s.me(access); code != 200 {
			t.Fatalf("the fresh token is refused: %d", code)
		}
		tok := s.pipelineToken(access)

		must(t, "", "user", "deactivate", "-db", dsn, "-username", "alice")
		s.refused(access, "the access token after deactivate")
		if code, body := s.do("POST", "/auth/token/refresh", `{"refresh":"`+refresh+`"}`, "", ""); code != 401 {
			t.Fatalf("refresh after deactivate: %d %v", code, body)
		}
		if !freshRegistry(t, dsn).Revoked(tok) {
			t.Fatal("a registry started after the deactivation accepts the token")
		}
		if code, body := s.do("POST", "/auth/token", `{"username":"alice","password":"correct horse"}`, "", ""); code != 401 || body["error"] != "invalid_credentials" {
			t.Fatalf("login while deactivated: %d %v", code, body)
		}

		must(t, "", "user", "activate", "-db", dsn, "-username", "alice")
		again, _ := s.login("alice", "correct horse", "")
		if code, _ := s.me(again); code != 200 {
			t.Fatalf("a token issued after reactivation is refused: %d", code)
		}
		if code, errCode := s.me(access); code != 401 || errCode != "token_revoked" {
			t.Fatalf("reactivation revived the old token: %d %s", code, errCode)
		}
	})
}
