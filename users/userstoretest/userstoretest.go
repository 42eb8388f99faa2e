package userstoretest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt/users"
)

// Run runs the conformance suite against the stores newStore makes, one
// subtest per check (see the package doc), each with a store of its own:
// newStore is called once per subtest, from that subtest, and must return
// a store holding no users. The subtests run one after another.
func Run(t *testing.T, newStore func(t *testing.T) Fixture) {
	t.Helper()
	checks := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Authenticate", checkAuthenticate},
		{"Logins", checkLogins},
		{"Find", checkFind},
		{"Copies", checkCopies},
		{"SameWork", checkSameWork},
		{"Context", checkContext},
		{"Concurrent", checkConcurrent},
		{"AccountKey", checkAccountKey},
		{"TouchLastLogin", checkTouchLastLogin},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newEnv(t, newStore(t)))
		})
	}
}

// env is one subtest's store and the accounts made in it.
type env struct {
	f   Fixture
	ctx context.Context
}

func newEnv(t *testing.T, f Fixture) *env {
	t.Helper()
	if f.Store == nil || f.Create == nil {
		t.Fatal("userstoretest: the Fixture needs a Store and a Create func")
	}
	return &env{f: f, ctx: context.Background()}
}

// The accounts most checks use.
var (
	alice = Account{
		Username: "alice", Email: "alice@example.com", Password: "alice: correct horse battery staple",
		Active: true, Perms: []string{"orders.view", "orders.edit"},
	}
	bob  = Account{Username: "bob", Email: "bob@example.com", Password: "bob: Tr0ub4dor&3", Active: true}
	ivan = Account{Username: "ivan", Email: "ivan@example.com", Password: "ivan: gone fishing", Perms: []string{"orders.view"}}
	// long's password is longer than the 72 bytes bcrypt reads.
	long = Account{Username: "long", Password: strings.Repeat("0123456789", 10), Active: true}
)

// create makes a, without its e-mail unless the store takes e-mail logins,
// and returns its ID.
func (e *env) create(t *testing.T, a Account) string {
	t.Helper()
	if !e.f.EmailLogin {
		a.Email = ""
	}
	a.Perms = slices.Clone(a.Perms)
	id, err := e.f.Create(e.ctx, a)
	if err != nil {
		t.Fatalf("Create(%q): %v", a.Username, err)
	}
	if id == "" {
		t.Fatalf("Create(%q) returned an empty ID", a.Username)
	}
	return id
}

// login expects Authenticate to log in the user id made from a.
func (e *env) login(t *testing.T, login, password, id string, a Account) {
	t.Helper()
	u, err := e.f.Store.Authenticate(e.ctx, login, password)
	if err != nil {
		t.Errorf("Authenticate(%q, the right password) = %v; want %s", login, err, a.Username)
		return
	}
	e.same(t, "Authenticate("+quote(login)+")", u, id, a)
}

// refused expects Authenticate to fail with ErrInvalidCredentials alone.
func (e *env) refused(t *testing.T, login, password, why string) {
	t.Helper()
	u, err := e.f.Store.Authenticate(e.ctx, login, password)
	if !errors.Is(err, users.ErrInvalidCredentials) || u != nil {
		t.Errorf("Authenticate(%q, %s) = %s, %v; want nil, ErrInvalidCredentials", clip(login), why, describe(u), err)
		return
	}
	if errors.Is(err, users.ErrNotFound) {
		t.Errorf("Authenticate(%q, %s): the error also matches ErrNotFound, telling that the login names nobody: %v", clip(login), why, err)
	}
}

// same checks that u is the user id made from a.
func (e *env) same(t *testing.T, call string, u *users.User, id string, a Account) {
	t.Helper()
	switch {
	case u == nil:
		t.Errorf("%s returned no user and no error", call)
		return
	case u.ID != id:
		t.Errorf("%s: ID %q; want %q (%s)", call, u.ID, id, a.Username)
	case !e.usernameMatches(u.Username, a.Username):
		t.Errorf("%s: Username %q; want %q", call, u.Username, a.Username)
	case u.IsActive != a.Active:
		t.Errorf("%s: IsActive %v; want %v", call, u.IsActive, a.Active)
	case !samePerms(u.Perms, a.Perms):
		t.Errorf("%s: Perms %q; want %q", call, u.Perms, a.Perms)
	case e.f.EmailLogin && !strings.EqualFold(u.Email, a.Email):
		t.Errorf("%s: Email %q; want %q", call, u.Email, a.Email)
	}
}

func (e *env) usernameMatches(got, want string) bool {
	if e.f.Usernames == FoldCase {
		return strings.EqualFold(got, want)
	}
	return got == want
}

func samePerms(got []string, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func describe(u *users.User) string {
	if u == nil {
		return "nil"
	}
	return "user " + quote(u.Username) + " (ID " + quote(u.ID) + ")"
}

func quote(s string) string { return strconv.Quote(clip(s)) }

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-10:]
	}
	return s
}
