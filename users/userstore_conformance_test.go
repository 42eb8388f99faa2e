package users_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
	"github.com/ginjwt/ginjwt/users/userstoretest"
)

// TestStoreConformance runs the user store suite against Store on both
// engines, each check on a database of its own.
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	engines := []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}}
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			userstoretest.Run(t, func(t *testing.T) userstoretest.Fixture {
				db := engine.open(t)
				if err := users.Migrate(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				// Cheap parameters: the suite hashes a few dozen times.
				hasher := users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)
				checks := users.CountChecks(hasher)
				store := users.NewStore(db, users.WithHasher(hasher))
				return userstoretest.Fixture{
					Store: store,
					Create: func(ctx context.Context, a userstoretest.Account) (string, error) {
						u := users.NewUser(a.Username)
						u.Email, u.IsActive, u.Perms = a.Email, a.Active, a.Perms
						err := store.Create(ctx, u, a.Password)
						return u.ID, err
					},
					Usernames:      userstoretest.Exact,
					EmailLogin:     true,
					Context:        true,
					PasswordChecks: checks,
				}
			})
		})
	}
}
