package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// cli runs the command in process.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// dsnFor returns a DSN that opens db's database (and, on PostgreSQL, schema).
func dsnFor(t *testing.T, db *gorm.DB) string {
	if db.Dialector.Name() == "postgres" {
		return testdb.PostgresSchemaDSN(t, db)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
}

func TestUserCommands(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		dsn := dsnFor(t, db)
		if code, _, stderr := cli(t, "", "migrate", "-db", dsn); code != 0 {
			t.Fatalf("migrate: %d %s", code, stderr)
		}
		code, stdout, stderr := cli(t, "s3cret-pass\n", "user", "create", "-db", dsn, "-username", "alice", "-email", "Alice@Example.com", "-password-stdin", "-perms", "perm1, admin", "-staff")
		if code != 0 || !strings.Contains(stdout, "created user alice") {
			t.Fatalf("user create: %d %q %q", code, stdout, stderr)
		}
		if code, _, stderr := cli(t, "other\n", "user", "create", "-db", dsn, "-username", "alice", "-password-stdin"); code != 1 || !strings.Contains(stderr, "taken") {
			t.Fatalf("duplicate user: %d %q", code, stderr)
		}

		check, closeDB, err := openDB(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer closeDB()
		store := users.NewStore(check)
		u, err := store.Authenticate(context.Background(), "alice@example.com", "s3cret-pass")
		if err != nil {
			t.Fatalf("authenticate the created user: %v", err)
		}
		if !u.IsActive || !u.IsStaff || u.IsSuperuser || !u.HasPerms("perm1", "admin") || u.Email != "alice@example.com" {
			t.Fatalf("created user = %+v", u)
		}

		if code, _, stderr := cli(t, "n3w-pass\r\n", "user", "set-password", "-db", dsn, "-username", "alice", "-password-stdin"); code != 0 {
			t.Fatalf("set-password: %d %s", code, stderr)
		}
		if _, err := store.Authenticate(context.Background(), "alice", "s3cret-pass"); err == nil {
			t.Fatal("the old password still works")
		}
		u, err = store.Authenticate(context.Background(), "alice", "n3w-pass")
		if err != nil || u.PasswordChangedAt == nil {
			t.Fatalf("new password: %v, cut-off %v", err, u)
		}
		// The cut-off is in the revocation log, for every running instance.
		var cut registry.Revocation
		if err := check.Where("kind = ? AND subject = ?", registry.KindUser, u.ID).Take(&cut).Error; err != nil {
			t.Fatalf("no cut-off in the revocation log: %v", err)
		}
		if code, _, stderr := cli(t, "x\n", "user", "set-password", "-db", dsn, "-username", "nobody", "-password-stdin"); code != 1 || !strings.Contains(stderr, "not found") {
			t.Fatalf("set-password of nobody: %d %q", code, stderr)
		}
	})
}

func TestArchive(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		dsn := dsnFor(t, db)
		if code, _, stderr := cli(t, "", "migrate", "-db", dsn); code != 0 {
			t.Fatalf("migrate: %d %s", code, stderr)
		}
		check, closeDB, err := openDB(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer closeDB()
		now := time.Now().UTC()
		var rows []registry.Token
		for i := range 2500 {
			exp := now.Add(-300 * time.Hour) // long expired
			if i%5 == 0 {
				exp = now.Add(time.Hour) // alive
			}
			rows = append(rows, registry.Token{JTI: fmt.Sprintf("j%d", i), Type: "access", SessionID: "s", IssuedAt: now.Add(-301 * time.Hour), ExpiresAt: exp, CreatedAt: now})
		}
		if err := check.CreateInBatches(rows, 500).Error; err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := cli(t, "", "archive", "-db", dsn, "-older-than", "240h")
		if code != 0 || !strings.Contains(stdout, "archived 2000 tokens") {
			t.Fatalf("archive: %d %q %q", code, stdout, stderr)
		}
		var left int64
		check.Model(&registry.Token{}).Count(&left)
		if left != 500 {
			t.Fatalf("%d tokens left, want the 500 alive", left)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("GINJWT_DB", "")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 0, "usage: ginjwt"},
		{[]string{"frobnicate"}, 2, "usage: ginjwt"},
		{[]string{"migrate"}, 2, "-db (or $GINJWT_DB) is required"},
		{[]string{"migrate", "-db", "mysql://x"}, 1, "DSN must start with"},
		{[]string{"migrate", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"migrate", "-db", "sqlite:x.db", "extra"}, 2, "unexpected argument"},
		{[]string{"user", "create", "-db", "sqlite:x.db"}, 2, "-username is required"},
		{[]string{"user", "create", "-db", "sqlite:x.db", "-username", "a"}, 2, "-password-stdin is required"},
		{[]string{"user", "create", "-db", "sqlite:x.db", "-username", "a", "-password-stdin"}, 1, "no password on standard input"},
		{[]string{"keys", "generate"}, 2, "-alg is required"},
		{[]string{"keys", "generate", "-alg", "none"}, 2, "unknown algorithm"},
		{[]string{"archive", "-db", "sqlite:x.db", "-older-than", "-1h"}, 2, "must not be negative"},
	}
	for _, tc := range cases {
		code, _, stderr := cli(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: %d %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestKeysGenerate(t *testing.T) {
	for _, alg := range ginjwt.Algorithms() {
		code, stdout, stderr := cli(t, "", "keys", "generate", "-alg", alg)
		if code != 0 {
			t.Fatalf("%s: %d %s", alg, code, stderr)
		}
		var cfg ginjwt.Config
		if strings.HasPrefix(alg, "HS") {
			cfg.Keys = []ginjwt.Key{{Algorithm: alg, Secret: []byte(strings.TrimSpace(stdout))}}
		} else {
			k, err := ginjwt.ParseKeyPEM(alg, []byte(stdout))
			if err != nil {
				t.Fatalf("%s: the generated PEM does not parse: %v", alg, err)
			}
			cfg.Keys = []ginjwt.Key{k}
		}
		cfg.Paths.Obtain = "-"
		if _, err := ginjwt.New(cfg); err != nil {
			t.Fatalf("%s: the generated key is refused: %v", alg, err)
		}
	}
	out := filepath.Join(t.TempDir(), "ed.pem")
	if code, _, stderr := cli(t, "", "keys", "generate", "-alg", "EdDSA", "-out", out); code != 0 {
		t.Fatalf("-out: %d %s", code, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if code, _, _ := cli(t, "", "keys", "generate", "-alg", "EdDSA", "-out", out); code != 1 {
		t.Fatal("-out overwrote an existing file")
	}
}
