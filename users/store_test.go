package users

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// clock is a settable test clock, in whole microseconds so times survive
// PostgreSQL's precision unchanged.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// storeEnv is a migrated store on one engine with fast hashing.
type storeEnv struct {
	db    *gorm.DB
	store *Store
	clock *clock
	ctx   context.Context
}

func newStoreEnv(t *testing.T, db *gorm.DB) *storeEnv {
	t.Helper()
	ctx := context.Background()
	if err := Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	c := newClock()
	return &storeEnv{
		db:    db,
		store: NewStore(db, WithHasher(NewHasher(fastParams, 0)), WithClock(c.Now)),
		clock: c,
		ctx:   ctx,
	}
}

// create makes an active user with password "pw-<username>".
func (e *storeEnv) create(t *testing.T, username, email string) *User {
	t.Helper()
	u := NewUser(username)
	u.Email = email
	if err := e.store.Create(e.ctx, u, "pw-"+username); err != nil {
		t.Fatalf("Create(%q): %v", username, err)
	}
	return u
}

func (e *storeEnv) count(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.db.Model(&User{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := context.Background()
		for i := range 2 {
			if err := Migrate(ctx, db); err != nil {
				t.Fatalf("Migrate run %d: %v", i+1, err)
			}
		}
		m := db.Migrator()
		if !m.HasTable("ginjwt_users") {
			t.Fatal("table ginjwt_users missing")
		}
		for _, idx := range []string{"idx_users_username", "idx_users_email"} {
			if !m.HasIndex(&User{}, idx) {
				t.Fatalf("index %s missing", idx)
			}
		}
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		if err := Migrate(canceled, db); err == nil || !strings.HasPrefix(err.Error(), "users: migrate: ") {
			t.Fatalf("Migrate(canceled) = %v; want a wrapped error", err)
		}
	})
}

func TestStoreCreateAndFind(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := NewUser("alice")
		u.Email = "Alice@Example.COM"
		u.IsStaff = true
		u.Perms = Perms{"orders.view", "orders.edit"}
		if err := e.store.Create(e.ctx, u, "s3cret"); err != nil {
			t.Fatal(err)
		}
		if len(u.ID) != 36 || u.ID[14] != '7' {
			t.Fatalf("ID = %q; want a UUIDv7", u.ID)
		}
		if u.Email != "alice@example.com" {
			t.Fatalf("Email = %q; want it lower-cased", u.Email)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("PasswordHash = %q; want argon2id with the hasher's params", u.PasswordHash)
		}
		if !u.CreatedAt.Equal(e.clock.Now()) || !u.UpdatedAt.Equal(e.clock.Now()) {
			t.Fatalf("CreatedAt %v, UpdatedAt %v; want the store clock %v", u.CreatedAt, u.UpdatedAt, e.clock.Now())
		}

		for name, find := range map[string]func() (*User, error){
			"Find":           func() (*User, error) { return e.store.Find(e.ctx, u.ID) },
			"FindByUsername": func() (*User, error) { return e.store.FindByUsername(e.ctx, "alice") },
		} {
			got, err := find()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got.ID != u.ID || got.Username != "alice" || got.Email != "alice@example.com" ||
				got.PasswordHash != u.PasswordHash || !got.IsActive || !got.IsStaff || got.IsSuperuser ||
				strings.Join(got.Perms, ",") != "orders.view,orders.edit" ||
				!got.CreatedAt.Equal(u.CreatedAt) || got.LastLogin != nil || got.PasswordChangedAt != nil {
				t.Fatalf("%s = %+v; want %+v", name, got, u)
			}
		}
	})
}

func TestStoreCreateDefaults(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		// A hand-built User is inactive and has nil perms.
		u := &User{Username: "bare"}
		if err := e.store.Create(e.ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.Find(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IsActive {
			t.Fatal("a User without IsActive was stored active")
		}
		if got.Perms == nil || len(got.Perms) != 0 {
			t.Fatalf("Perms = %#v; want an empty, non-nil list", got.Perms)
		}
		if got.Email != "" {
			t.Fatalf("Email = %q; want empty", got.Email)
		}
		if _, err := e.store.Authenticate(e.ctx, "bare", "pw"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("Authenticate(inactive) error = %v; want ErrInvalidCredentials", err)
		}
		if nu := NewUser("x"); !nu.IsActive || nu.Perms == nil || len(nu.Perms) != 0 {
			t.Fatalf("NewUser = %+v; want active with empty perms", nu)
		}
	})
}

func TestStoreFindNotFound(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		e.create(t, "alice", "")
		tests := []struct {
			name string
			find func() (*User, error)
		}{
			{"unknown id", func() (*User, error) { return e.store.Find(e.ctx, NewID()) }},
			{"empty id", func() (*User, error) { return e.store.Find(e.ctx, "") }},
			{"over-long id", func() (*User, error) { return e.store.Find(e.ctx, strings.Repeat("x", 100)) }},
			{"unknown username", func() (*User, error) { return e.store.FindByUsername(e.ctx, "bob") }},
			{"username in other case", func() (*User, error) { return e.store.FindByUsername(e.ctx, "Alice") }},
			{"empty username", func() (*User, error) { return e.store.FindByUsername(e.ctx, "") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := tt.find()
				if u != nil || !errors.Is(err, ErrNotFound) {
					t.Fatalf("= %v, %v; want nil, ErrNotFound", u, err)
				}
				if errors.Is(err, gorm.ErrRecordNotFound) {
					t.Fatal("gorm.ErrRecordNotFound escaped")
				}
			})
		}
	})
}

func TestStoreDuplicate(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		first := e.create(t, "alice", "alice@example.com")
		tests := []struct {
			name      string
			user      *User
			wantField string
		}{
			{"same username", &User{Username: "alice", Email: "other@example.com"}, "username"},
			{"same e-mail", &User{Username: "alice2", Email: "alice@example.com"}, "email"},
			{"same e-mail in other case", &User{Username: "alice3", Email: "ALICE@Example.com"}, "email"},
			{"same id", &User{ID: first.ID, Username: "alice4"}, "id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := e.store.Create(e.ctx, tt.user, "pw")
				if !errors.Is(err, ErrDuplicate) {
					t.Fatalf("Create error = %v; want ErrDuplicate", err)
				}
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.wantField {
					t.Fatalf("error %v; want a *ValidationError on %q", err, tt.wantField)
				}
				if want := "users: " + tt.wantField + ": already taken"; err.Error() != want {
					t.Fatalf("message %q; want %q, without the driver's text", err.Error(), want)
				}
			})
		}
		if n := e.count(t); n != 1 {
			t.Fatalf("%d users stored; want 1", n)
		}

		// Any number of users may have no e-mail.
		e.create(t, "noemail1", "")
		e.create(t, "noemail2", "")
		e.create(t, "noemail3", "")
		if n := e.count(t); n != 4 {
			t.Fatalf("%d users stored; want 4", n)
		}
	})
}

func TestStoreCreateValidation(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		tests := []struct {
			name      string
			username  string
			email     string
			password  string
			wantField string // "" means valid
			wantIs    error
		}{
			{"valid", "bob", "bob@example.com", "pw", "", nil},
			{"150 characters", strings.Repeat("é", 150), "", "pw", "", nil},
			{"inner space", "bob smith", "", "pw", "", nil},
			{"e-mail as username", "carol@example.com", "", "pw", "", nil},
			{"empty username", "", "", "pw", "username", nil},
			{"151 characters", strings.Repeat("a", 151), "", "pw", "username", nil},
			{"leading space", " dave", "", "pw", "username", nil},
			{"trailing space", "dave ", "", "pw", "username", nil},
			{"trailing tab", "dave\t", "", "pw", "username", nil},
			{"newline", "da\nve", "", "pw", "username", nil},
			{"NUL", "da\x00ve", "", "pw", "username", nil},
			{"DEL", "da\x7fve", "", "pw", "username", nil},
			{"invalid UTF-8", "da\xffve", "", "pw", "username", nil},
			{"e-mail without @", "erin", "erin.example.com", "pw", "email", nil},
			{"e-mail with two @", "erin", "erin@@example.com", "pw", "email", nil},
			{"e-mail without local part", "erin", "@example.com", "pw", "email", nil},
			{"e-mail without domain", "erin", "erin@", "pw", "email", nil},
			{"e-mail with space", "erin", "erin @example.com", "pw", "email", nil},
			{"e-mail too long", "erin", strings.Repeat("a", 250) + "@b.cd", "pw", "email", nil},
			{"empty password", "frank", "", "", "password", ErrInvalidPassword},
			{"password too long", "frank", "", strings.Repeat("p", MaxPasswordLen+1), "password", ErrInvalidPassword},
		}
		want := e.count(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := NewUser(tt.username)
				u.Email = tt.email
				err := e.store.Create(e.ctx, u, tt.password)
				if tt.wantField == "" {
					if err != nil {
						t.Fatalf("Create: %v", err)
					}
					want++
				} else {
					var ve *ValidationError
					if !errors.As(err, &ve) || ve.Field != tt.wantField {
						t.Fatalf("Create error = %v; want a *ValidationError on %q", err, tt.wantField)
					}
					if !strings.HasPrefix(err.Error(), "users: "+tt.wantField+": ") || strings.Contains(err.Error(), tt.password) && tt.password != "" {
						t.Fatalf("message %q", err.Error())
					}
					if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
						t.Fatalf("Create error = %v; want it to match %v", err, tt.wantIs)
					}
					if errors.Is(err, ErrDuplicate) {
						t.Fatal("a validation error matches ErrDuplicate")
					}
				}
				if n := e.count(t); n != want {
					t.Fatalf("%d users stored; want %d", n, want)
				}
			})
		}
	})
}

func TestStoreSetPassword(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "alice", "")
		changedAt := e.clock.Advance(time.Hour)
		if err := e.store.SetPassword(e.ctx, u.ID, "new password"); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.Find(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PasswordHash == u.PasswordHash || !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
			t.Fatalf("hash %q; want a new argon2id hash", got.PasswordHash)
		}
		if got.PasswordChangedAt == nil || !got.PasswordChangedAt.Equal(changedAt) {
			t.Fatalf("PasswordChangedAt = %v; want %v", got.PasswordChangedAt, changedAt)
		}
		if !got.UpdatedAt.Equal(changedAt) || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("UpdatedAt %v, CreatedAt %v; want %v and %v", got.UpdatedAt, got.CreatedAt, changedAt, u.CreatedAt)
		}
		if _, err := e.store.Authenticate(e.ctx, "alice", "pw-alice"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("old password: error = %v; want ErrInvalidCredentials", err)
		}
		if _, err := e.store.Authenticate(e.ctx, "alice", "new password"); err != nil {
			t.Fatalf("new password: %v", err)
		}

		if err := e.store.SetPassword(e.ctx, NewID(), "pw"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: error = %v; want ErrNotFound", err)
		}
		for _, bad := range []string{"", strings.Repeat("p", MaxPasswordLen+1)} {
			if err := e.store.SetPassword(e.ctx, u.ID, bad); !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("SetPassword(%d bytes) error = %v; want ErrInvalidPassword", len(bad), err)
			}
		}
		if again, _ := e.store.Find(e.ctx, u.ID); again.PasswordHash != got.PasswordHash {
			t.Fatal("a refused SetPassword changed the hash")
		}
	})
}

func TestStoreSetActive(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "alice", "")
		steps := []struct {
			active bool
			login  error
		}{{false, ErrInvalidCredentials}, {false, ErrInvalidCredentials}, {true, nil}}
		for i, s := range steps {
			at := e.clock.Advance(time.Minute)
			if err := e.store.SetActive(e.ctx, u.ID, s.active); err != nil {
				t.Fatalf("step %d: SetActive(%v): %v", i, s.active, err)
			}
			got, err := e.store.Find(e.ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.IsActive != s.active || !got.UpdatedAt.Equal(at) {
				t.Fatalf("step %d: IsActive %v, UpdatedAt %v; want %v, %v", i, got.IsActive, got.UpdatedAt, s.active, at)
			}
			if _, err := e.store.Authenticate(e.ctx, "alice", "pw-alice"); !errors.Is(err, s.login) {
				t.Fatalf("step %d: Authenticate error = %v; want %v", i, err, s.login)
			}
		}
		if err := e.store.SetActive(e.ctx, NewID(), true); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: error = %v; want ErrNotFound", err)
		}
	})
}

func TestStoreTouchLastLogin(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "alice", "")
		at := e.clock.Now().Add(5 * time.Minute)
		e.clock.Advance(time.Hour)
		if err := e.store.TouchLastLogin(e.ctx, u.ID, at); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.Find(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastLogin == nil || !got.LastLogin.Equal(at) {
			t.Fatalf("LastLogin = %v; want %v", got.LastLogin, at)
		}
		if !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("UpdatedAt moved to %v; a login is not an edit", got.UpdatedAt)
		}
		if err := e.store.TouchLastLogin(e.ctx, "no-such-id", at); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: error = %v; want ErrNotFound", err)
		}
	})
}

func TestStoreSetPerms(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "alice", "")
		tests := []struct {
			name  string
			perms []string
		}{
			{"some", []string{"orders.view", "orders.edit"}},
			{"quotes and unicode", []string{`a"b`, "ünï,cødé", "[x]"}},
			{"none", nil},
			{"one", []string{"admin"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := e.store.SetPerms(e.ctx, u.ID, tt.perms...); err != nil {
					t.Fatal(err)
				}
				got, err := e.store.Find(e.ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Perms == nil || strings.Join(got.Perms, "|") != strings.Join(tt.perms, "|") || len(got.Perms) != len(tt.perms) {
					t.Fatalf("Perms = %#v; want %#v", got.Perms, tt.perms)
				}
				if len(tt.perms) > 0 && !got.HasPerms(tt.perms...) {
					t.Fatal("HasPerms(own perms) = false")
				}
				if got.HasPerms("never.granted") {
					t.Fatal("HasPerms(not granted) = true")
				}
			})
		}
		if err := e.store.SetPerms(e.ctx, NewID(), "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: error = %v; want ErrNotFound", err)
		}
	})
}

func TestStoreList(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		empty, err := e.store.List(e.ctx, 10, 0)
		if err != nil || empty == nil || len(empty) != 0 {
			t.Fatalf("List on no users = %#v, %v; want an empty non-nil slice", empty, err)
		}
		for _, name := range []string{"dave", "alice", "erin", "carol", "bob"} {
			e.create(t, name, "")
		}
		tests := []struct {
			limit, offset int
			want          string
		}{
			{0, 0, "alice bob carol dave erin"},
			{2, 0, "alice bob"},
			{2, 2, "carol dave"},
			{10, 3, "dave erin"},
			{0, 4, "erin"},
			{-1, -1, "alice bob carol dave erin"},
			{5, 5, ""},
		}
		for _, tt := range tests {
			list, err := e.store.List(e.ctx, tt.limit, tt.offset)
			if err != nil {
				t.Fatalf("List(%d, %d): %v", tt.limit, tt.offset, err)
			}
			var names []string
			for _, u := range list {
				names = append(names, u.Username)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Fatalf("List(%d, %d) = %q; want %q", tt.limit, tt.offset, got, tt.want)
			}
		}
	})
}

func TestStoreUsesContext(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		u := e.create(t, "alice", "")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		calls := map[string]func() error{
			"Authenticate": func() error { _, err := e.store.Authenticate(ctx, "alice", "pw-alice"); return err },
			"Find":         func() error { _, err := e.store.Find(ctx, u.ID); return err },
			"List":         func() error { _, err := e.store.List(ctx, 0, 0); return err },
			"Create":       func() error { return e.store.Create(ctx, NewUser("bob"), "pw") },
			"SetPassword":  func() error { return e.store.SetPassword(ctx, u.ID, "pw") },
			"SetActive":    func() error { return e.store.SetActive(ctx, u.ID, false) },
			"SetPerms":     func() error { return e.store.SetPerms(ctx, u.ID, "x") },
			"TouchLogin":   func() error { return e.store.TouchLastLogin(ctx, u.ID, time.Now()) },
		}
		for name, call := range calls {
			err := call()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s with a canceled context: error = %v; want context.Canceled", name, err)
			}
			if errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: a canceled context reads as %v", name, err)
			}
		}
		got, err := e.store.Find(e.ctx, u.ID)
		if err != nil || !got.IsActive || got.PasswordHash != u.PasswordHash || len(got.Perms) != 0 {
			t.Fatalf("a canceled call wrote: %+v, %v", got, err)
		}
	})
}
