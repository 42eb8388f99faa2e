package userstoretest_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ginjwt/ginjwt/users"
	"github.com/ginjwt/ginjwt/users/userstoretest"
)

// mapStore is an application's own user store, kept in memory: about the
// smallest store that passes the suite. Users log in by username, exactly.
type mapStore struct {
	mu     sync.RWMutex
	byName map[string]*account
	byID   map[string]*account
	// dummy is checked when there is no hash to check, so that every
	// login, failed or not, costs one argon2id check.
	dummy  string
	checks atomic.Int64
}

type account struct {
	user users.User
	hash string
}

// params are cheap argon2id parameters, for tests.
var params = users.Params{Memory: 64, Iterations: 1, Parallelism: 1}

func newMapStore() *mapStore {
	dummy, err := users.HashPassword("not anybody's password", params)
	if err != nil {
		panic(err)
	}
	return &mapStore{byName: map[string]*account{}, byID: map[string]*account{}, dummy: dummy}
}

func (s *mapStore) Create(ctx context.Context, a userstoretest.Account) (string, error) {
	hash, err := users.HashPassword(a.Password, params)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.byName[a.Username]; taken {
		return "", users.ErrDuplicate
	}
	u := users.User{ID: users.NewID(), Username: a.Username, IsActive: a.Active, Perms: slices.Clone(a.Perms)}
	acc := &account{user: u, hash: hash}
	s.byName[u.Username], s.byID[u.ID] = acc, acc
	return u.ID, nil
}

func (s *mapStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	acc, known := s.byName[login]
	s.mu.RUnlock()
	hash, candidate := s.dummy, "-"
	if known && password != "" && len(password) <= users.MaxPasswordLen {
		hash, candidate = acc.hash, password
	}
	if !s.check(hash, candidate) || !known || !acc.user.IsActive {
		return nil, users.ErrInvalidCredentials
	}
	return acc.copy(), nil
}

func (s *mapStore) check(hash, password string) bool {
	s.checks.Add(1)
	ok, err := users.CheckPassword(hash, password)
	return ok && err == nil
}

func (s *mapStore) Find(ctx context.Context, id string) (*users.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	acc, ok := s.byID[id]
	if !ok {
		return nil, users.ErrNotFound
	}
	return acc.copy(), nil
}

// AccountKey lets ginjwt's login throttle count an account's failures.
func (s *mapStore) AccountKey(ctx context.Context, login string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if acc, ok := s.byName[login]; ok {
		return acc.user.ID, nil
	}
	return "", nil
}

// copy returns a user of the caller's own.
func (a *account) copy() *users.User {
	u := a.user
	u.Perms = slices.Clone(a.user.Perms)
	return &u
}

// fixture is the suite's view of a new, empty mapStore.
func fixture(s *mapStore) userstoretest.Fixture {
	return userstoretest.Fixture{
		Store:          s,
		Create:         s.Create,
		Usernames:      userstoretest.Exact,
		Context:        true,
		PasswordChecks: s.checks.Load,
	}
}

// TestMapStore is what a store's own test looks like.
func TestMapStore(t *testing.T) {
	userstoretest.Run(t, func(t *testing.T) userstoretest.Fixture {
		return fixture(newMapStore())
	})
}
