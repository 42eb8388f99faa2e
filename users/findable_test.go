package users

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestStoreUnfindableValues: a value no column can hold (a NUL byte,
// invalid UTF-8) names nobody on either engine — PostgreSQL would fail the
// query — and is refused as an ID on create.
func TestStoreUnfindableValues(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		alice := e.create(t, "alice", "alice@example.com")
		for _, v := range []string{"alice\x00", "\x00", "\xff", "alic\xe9", "alice@example.com\x00", alice.ID + "\x00"} {
			if _, err := e.store.Authenticate(e.ctx, v, "pw-alice"); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("Authenticate(%q) = %v; want ErrInvalidCredentials", v, err)
			}
			if id, err := e.store.AccountKey(e.ctx, v); id != "" || err != nil {
				t.Errorf("AccountKey(%q) = %q, %v; want \"\", nil", v, id, err)
			}
			if _, err := e.store.Find(e.ctx, v); !errors.Is(err, ErrNotFound) {
				t.Errorf("Find(%q) = %v; want ErrNotFound", v, err)
			}
			if _, err := e.store.FindByUsername(e.ctx, v); !errors.Is(err, ErrNotFound) {
				t.Errorf("FindByUsername(%q) = %v; want ErrNotFound", v, err)
			}
			if err := e.store.SetPerms(e.ctx, v, "x"); !errors.Is(err, ErrNotFound) {
				t.Errorf("SetPerms(%q) = %v; want ErrNotFound", v, err)
			}
		}
		for _, id := range []string{"\xff", "a\x00b"} {
			u := NewUser("bob")
			u.ID = id
			var ve *ValidationError
			if err := e.store.Create(e.ctx, u, "pw"); !errors.As(err, &ve) || ve.Field != "id" {
				t.Errorf("Create with ID %q = %v; want a ValidationError on id", id, err)
			}
		}
	})
}
