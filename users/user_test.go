package users

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

func TestUserJSONCarriesNoPassword(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "alice", "alice@example.com")
		if err := e.store.SetPassword(e.ctx, u.ID, "the secret"); err != nil {
			t.Fatal(err)
		}
		if err := e.store.TouchLastLogin(e.ctx, u.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.Find(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{got.PasswordHash, "argon2", "the secret", "password_hash"} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("JSON %s contains %q", raw, secret)
			}
		}
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		// password_changed_at is a timestamp, the token cut-off, and no secret;
		// every other key must stay clear of password material.
		for key := range fields {
			if strings.Contains(key, "password") && key != "password_changed_at" {
				t.Fatalf("JSON key %q", key)
			}
		}
		for _, key := range []string{"id", "username", "email", "is_active", "perms", "last_login", "password_changed_at"} {
			if _, ok := fields[key]; !ok {
				t.Fatalf("JSON %s lacks %q", raw, key)
			}
		}
	})
}

func TestPermsValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		perms Perms
		want  string
	}{
		{"nil", nil, "[]"},
		{"empty", Perms{}, "[]"},
		{"two", Perms{"a.view", "a.edit"}, `["a.view","a.edit"]`},
		{"quote", Perms{`x"y`}, `["x\"y"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := tt.perms.Value()
			if err != nil || v != tt.want {
				t.Fatalf("Value = %v, %v; want %q", v, err, tt.want)
			}
		})
	}
}

func TestPermsScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     any
		want    string // joined by "|"
		wantErr bool
	}{
		{"nil", nil, "", false},
		{"empty string", "", "", false},
		{"empty array", "[]", "", false},
		{"string", `["a","b"]`, "a|b", false},
		{"bytes", []byte(`["c"]`), "c", false},
		{"not JSON", "a,b", "", true},
		{"JSON object", `{"a":1}`, "", true},
		{"int", 42, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Perms{"stale"}
			err := p.Scan(tt.src)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Scan(%v) error = %v; want error %v", tt.src, err, tt.wantErr)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "users: ") {
					t.Fatalf("error %q lacks the package prefix", err)
				}
				return
			}
			if p == nil || strings.Join(p, "|") != tt.want {
				t.Fatalf("Scan(%v) = %#v; want %q", tt.src, p, tt.want)
			}
		})
	}
}

func TestHasPerms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		user User
		ask  []string
		want bool
	}{
		{"none asked", User{}, nil, true},
		{"held", User{Perms: Perms{"a", "b"}}, []string{"a", "b"}, true},
		{"one missing", User{Perms: Perms{"a"}}, []string{"a", "b"}, false},
		{"no perms", User{}, []string{"a"}, false},
		{"superuser holds all", User{IsSuperuser: true}, []string{"anything"}, true},
		{"staff is not superuser", User{IsStaff: true}, []string{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.user.HasPerms(tt.ask...); got != tt.want {
				t.Fatalf("HasPerms(%v) = %v; want %v", tt.ask, got, tt.want)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	uuid7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	before := time.Now().UnixMilli()
	for range 1000 {
		id := NewID()
		if !uuid7.MatchString(id) {
			t.Fatalf("NewID() = %q; want a UUIDv7", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
	id := NewID()
	var ms int64
	for _, c := range strings.ReplaceAll(id[:13], "-", "") {
		ms = ms<<4 | int64(strings.IndexRune("0123456789abcdef", c))
	}
	if after := time.Now().UnixMilli(); ms < before || ms > after {
		t.Fatalf("NewID() timestamp %d outside [%d, %d]", ms, before, after)
	}
}
