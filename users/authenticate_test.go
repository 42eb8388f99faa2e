package users

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

func TestStoreAuthenticate(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		alice := e.create(t, "alice", "Alice@Example.com")
		inactive := e.create(t, "ivan", "ivan@example.com")
		if err := e.store.SetActive(e.ctx, inactive.ID, false); err != nil {
			t.Fatal(err)
		}
		// A username that looks like someone else's e-mail wins over it.
		e.create(t, "bob", "carol@example.com")
		carol := e.create(t, "carol@example.com", "")

		tests := []struct {
			name, login, password string
			wantID                string // "" means ErrInvalidCredentials
		}{
			{"username", "alice", "pw-alice", alice.ID},
			{"e-mail", "alice@example.com", "pw-alice", alice.ID},
			{"e-mail in other case", "ALICE@example.COM", "pw-alice", alice.ID},
			{"username before e-mail", "carol@example.com", "pw-carol@example.com", carol.ID},
			{"username is exact", "Alice", "pw-alice", ""},
			{"username not trimmed", " alice", "pw-alice", ""},
			{"e-mail not trimmed", "alice@example.com ", "pw-alice", ""},
			{"wrong password", "alice", "pw-alicE", ""},
			{"wrong password by e-mail", "alice@example.com", "nope", ""},
			{"unknown username", "mallory", "pw-mallory", ""},
			{"unknown e-mail", "mallory@example.com", "pw-alice", ""},
			{"e-mail does not match without @", "alice.example.com", "pw-alice", ""},
			{"empty login", "", "pw-alice", ""},
			{"inactive, right password", "ivan", "pw-ivan", ""},
			{"inactive by e-mail", "ivan@example.com", "pw-ivan", ""},
			{"inactive, wrong password", "ivan", "nope", ""},
			{"empty password", "alice", "", ""},
			{"password too long", "alice", "pw-alice" + strings.Repeat("x", MaxPasswordLen), ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := e.store.Authenticate(e.ctx, tt.login, tt.password)
				if tt.wantID == "" {
					if u != nil || err != ErrInvalidCredentials {
						t.Fatalf("Authenticate = %v, %v; want nil, exactly ErrInvalidCredentials", u, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if u.ID != tt.wantID {
					t.Fatalf("Authenticate returned %s (%s); want %s", u.ID, u.Username, tt.wantID)
				}
			})
		}
	})
}

// checkCounter wraps a store's hasher to record what each check ran on.
type checkCounter struct {
	mu      sync.Mutex
	encoded []string
}

func countChecks(s *Store) *checkCounter {
	c := &checkCounter{}
	s.hasher.checkFn = func(encoded, password string) (bool, error) {
		c.mu.Lock()
		c.encoded = append(c.encoded, encoded)
		c.mu.Unlock()
		return CheckPassword(encoded, password)
	}
	return c
}

func (c *checkCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.encoded
	c.encoded = nil
	return out
}

func TestStoreAuthenticateHashWork(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		counter := countChecks(e.store)
		alice := e.create(t, "alice", "alice@example.com")
		ivan := e.create(t, "ivan", "")
		if err := e.store.SetActive(e.ctx, ivan.ID, false); err != nil {
			t.Fatal(err)
		}
		nohash := e.create(t, "nohash", "")
		broken := e.create(t, "broken", "")
		for id, h := range map[string]string{nohash.ID: "", broken.ID: "$argon2id$v=19$m=64,t=1,p=1$garbage"} {
			if err := db.Model(&User{}).Where("id = ?", id).UpdateColumn("password_hash", h).Error; err != nil {
				t.Fatal(err)
			}
		}
		dummy := e.store.dummy
		if NeedsRehash(dummy, e.store.hasher.Params()) {
			t.Fatalf("dummy hash %q is not made with the hasher's params", dummy)
		}

		tests := []struct {
			name, login, password string
			wantChecks            []string // the hashes checked, in order
			wantAlso              error
		}{
			{"unknown user", "mallory", "pw", []string{dummy}, nil},
			{"unknown e-mail", "mallory@example.com", "pw", []string{dummy}, nil},
			{"empty password", "alice", "", []string{dummy}, nil},
			{"password too long", "alice", strings.Repeat("x", MaxPasswordLen+1), []string{dummy}, nil},
			{"wrong password", "alice", "nope", []string{alice.PasswordHash}, nil},
			{"inactive", "ivan", "pw-ivan", []string{ivan.PasswordHash}, nil},
			{"no hash stored", "nohash", "pw-nohash", []string{dummy}, nil},
			{"unreadable hash", "broken", "pw-broken", []string{"$argon2id$v=19$m=64,t=1,p=1$garbage", dummy}, ErrMalformedHash},
			{"success", "alice", "pw-alice", []string{alice.PasswordHash}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				counter.take()
				u, err := e.store.Authenticate(e.ctx, tt.login, tt.password)
				if tt.name == "success" {
					if err != nil || u == nil {
						t.Fatalf("Authenticate = %v, %v", u, err)
					}
				} else if u != nil || !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("Authenticate = %v, %v; want nil, ErrInvalidCredentials", u, err)
				}
				if tt.wantAlso != nil && !errors.Is(err, tt.wantAlso) {
					t.Fatalf("error %v; want it to wrap %v too", err, tt.wantAlso)
				}
				got := counter.take()
				if strings.Join(got, "\n") != strings.Join(tt.wantChecks, "\n") {
					t.Fatalf("checked against %q; want %q", got, tt.wantChecks)
				}
			})
		}
	})
}

func TestStoreRehashOnLogin(t *testing.T) {
	t.Parallel()
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("pw-alice"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stored string
	}{
		{"bcrypt", string(bcryptHash)},
		{"bcrypt $2y$", "$2y$" + string(bcryptHash[4:])},
		{"argon2id, weaker params", mustHash(t, "pw-alice", Params{Memory: 32, Iterations: 1, Parallelism: 1, KeyLength: 16})},
		{"argon2id, default params", mustHash(t, "pw-alice", DefaultParams)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
				t.Parallel()
				e := newStoreEnv(t, db)
				alice := e.create(t, "alice", "")
				if err := db.Model(&User{}).Where("id = ?", alice.ID).UpdateColumn("password_hash", tt.stored).Error; err != nil {
					t.Fatal(err)
				}
				params := e.store.hasher.Params()
				stored := func() string {
					u, err := e.store.Find(e.ctx, alice.ID)
					if err != nil {
						t.Fatal(err)
					}
					return u.PasswordHash
				}

				// A failed login changes nothing.
				if _, err := e.store.Authenticate(e.ctx, "alice", "wrong"); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("wrong password: %v", err)
				}
				if stored() != tt.stored {
					t.Fatal("a failed login rewrote the hash")
				}

				u, err := e.store.Authenticate(e.ctx, "alice", "pw-alice")
				if err != nil {
					t.Fatalf("login with the old hash: %v", err)
				}
				upgraded := stored()
				if upgraded == tt.stored || NeedsRehash(upgraded, params) {
					t.Fatalf("stored hash %q; want it upgraded to %+v", upgraded, params)
				}
				if u.PasswordHash != upgraded {
					t.Fatalf("returned hash %q; want the stored %q", u.PasswordHash, upgraded)
				}
				if got, _ := e.store.Find(e.ctx, alice.ID); got.PasswordChangedAt != nil {
					t.Fatal("a rehash moved the token cut-off")
				}
				if _, err := e.store.Authenticate(e.ctx, "alice", "pw-alice"); err != nil {
					t.Fatalf("login after the upgrade: %v", err)
				}
				if stored() != upgraded {
					t.Fatal("a current hash was rehashed again")
				}
			})
		})
	}
}

func TestStoreNoRehashForInactive(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "ivan", "")
		old, err := bcrypt.GenerateFromPassword([]byte("pw-ivan"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"password_hash": string(old), "is_active": false}).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Authenticate(e.ctx, "ivan", "pw-ivan"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("inactive: %v", err)
		}
		if got, _ := e.store.Find(e.ctx, u.ID); got.PasswordHash != string(old) {
			t.Fatal("an inactive user's hash was rewritten")
		}
	})
}
