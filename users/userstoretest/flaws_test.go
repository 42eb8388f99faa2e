package userstoretest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/ginjwt/ginjwt/users"
	"github.com/ginjwt/ginjwt/users/userstoretest"
)

// flaws are mapStores broken in one way each, and the check that must
// catch it.
var flaws = map[string]struct {
	check string
	make  func(s *mapStore) userstoretest.Fixture
}{
	"folds case": {"Logins", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = foldingStore{s}
		return f
	}},
	"tells unknown logins": {"Authenticate", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = tellingStore{s}
		return f
	}},
	"lets inactive users in": {"Authenticate", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = inactiveStore{s}
		return f
	}},
	"reads 72 bytes": {"Authenticate", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = truncatingStore{s}
		f.Create = func(ctx context.Context, a userstoretest.Account) (string, error) {
			a.Password = first72(a.Password)
			return s.Create(ctx, a)
		}
		return f
	}},
	"shares users": {"Copies", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = &sharingStore{mapStore: s, seen: map[string]*users.User{}}
		return f
	}},
	"skips the hash for unknown logins": {"SameWork", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = hastyStore{s}
		return f
	}},
	"reads cancellation as bad credentials": {"Context", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = cancelStore{s}
		return f
	}},
	"keys by lower-cased login": {"AccountKey", func(s *mapStore) userstoretest.Fixture {
		f := fixture(s)
		f.Store = keyFoldingStore{s}
		return f
	}},
}

const flawEnv = "USERSTORETEST_FLAW"

// TestSuiteCatchesFlaws runs the suite, in a child process each, against
// every flawed store, and expects the check named for it to fail.
func TestSuiteCatchesFlaws(t *testing.T) {
	if name := os.Getenv(flawEnv); name != "" {
		flaw, ok := flaws[name]
		if !ok {
			t.Fatalf("no flaw %q", name)
		}
		userstoretest.Run(t, func(t *testing.T) userstoretest.Fixture { return flaw.make(newMapStore()) })
		return
	}
	t.Parallel()
	for name, flaw := range flaws {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatchesFlaws$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), flawEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a store that %s (%v):\n%s", name, err, out)
			}
			if want := "--- FAIL: TestSuiteCatchesFlaws/" + flaw.check + " "; !strings.Contains(string(out), want) {
				t.Fatalf("the suite failed a store that %s, but not in %s:\n%s", name, flaw.check, out)
			}
		})
	}
}

func (s *mapStore) lookup(login string) (*account, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	acc, ok := s.byName[login]
	return acc, ok
}

func first72(s string) string { return s[:min(len(s), 72)] }

type foldingStore struct{ *mapStore }

func (s foldingStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	return s.mapStore.Authenticate(ctx, strings.ToLower(login), password)
}

type tellingStore struct{ *mapStore }

func (s tellingStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	u, err := s.mapStore.Authenticate(ctx, login, password)
	if _, known := s.lookup(login); err != nil && !known {
		err = fmt.Errorf("%w: %w", users.ErrInvalidCredentials, users.ErrNotFound)
	}
	return u, err
}

type inactiveStore struct{ *mapStore }

func (s inactiveStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	u, err := s.mapStore.Authenticate(ctx, login, password)
	if acc, known := s.lookup(login); err != nil && known && s.check(acc.hash, password) {
		return acc.copy(), nil
	}
	return u, err
}

type truncatingStore struct{ *mapStore }

func (s truncatingStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	return s.mapStore.Authenticate(ctx, login, first72(password))
}

type sharingStore struct {
	*mapStore
	mu   sync.Mutex
	seen map[string]*users.User
}

func (s *sharingStore) Find(ctx context.Context, id string) (*users.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.seen[id]; ok {
		return u, nil
	}
	u, err := s.mapStore.Find(ctx, id)
	if err == nil {
		s.seen[id] = u
	}
	return u, err
}

type hastyStore struct{ *mapStore }

func (s hastyStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	if _, known := s.lookup(login); !known {
		return nil, users.ErrInvalidCredentials
	}
	return s.mapStore.Authenticate(ctx, login, password)
}

type cancelStore struct{ *mapStore }

func (s cancelStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	u, err := s.mapStore.Authenticate(ctx, login, password)
	if ctx.Err() != nil {
		return nil, users.ErrInvalidCredentials
	}
	return u, err
}

type keyFoldingStore struct{ *mapStore }

func (s keyFoldingStore) AccountKey(ctx context.Context, login string) (string, error) {
	return s.mapStore.AccountKey(ctx, strings.ToLower(login))
}
