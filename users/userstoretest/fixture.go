package userstoretest

import (
	"context"
	"time"

	"github.com/ginjwt/ginjwt/users"
)

// Store is the store under test: the methods of ginjwt's UserStore,
// declared here so that this package need not import ginjwt.
type Store interface {
	// Authenticate returns the active user whose login and password match,
	// or an error matching users.ErrInvalidCredentials.
	Authenticate(ctx context.Context, login, password string) (*users.User, error)
	// Find returns the user with this ID, or an error matching
	// users.ErrNotFound.
	Find(ctx context.Context, id string) (*users.User, error)
}

// AccountKeyer is ginjwt's optional AccountKeyer method, checked when
// Fixture.Store implements it.
type AccountKeyer interface {
	AccountKey(ctx context.Context, login string) (string, error)
}

// LastLoginToucher is the optional method behind ginjwt's
// Config.Accounts.UpdateLastLogin, checked when Fixture.Store implements it.
type LastLoginToucher interface {
	TouchLastLogin(ctx context.Context, id string, at time.Time) error
}

// Account is a user the suite asks [Fixture.Create] to make.
type Account struct {
	// Username is 1 to 20 bytes of letters, digits and "@._-", with no
	// white space; it contains "@" only when Fixture.EmailLogin is set.
	Username string
	// Email is set only when Fixture.EmailLogin is, lower-case.
	Email string
	// Password is 1 to 100 bytes.
	Password string
	// Active says whether the account may log in.
	Active bool
	// Perms are the user's permission names, possibly none.
	Perms []string
}

// Matching says how a store matches a login against usernames.
type Matching int

const (
	// Exact: the login must equal the username byte for byte, as with
	// [users.Store]: "Alice" and " alice" name nobody when the user is
	// "alice".
	Exact Matching = iota
	// FoldCase: letters match without regard to ASCII case ("ALICE" names
	// alice); every other byte must be equal.
	FoldCase
)

// Fixture is an empty store under test and what the suite needs to know
// about it. Run asks for a new one for each subtest.
type Fixture struct {
	// Store is the store under test, holding no users. Required.
	Store Store
	// Create adds an account to Store and returns the user's ID. Required.
	// An error fails the subtest, except for a username containing "@"
	// (which a store may refuse; the suite then leaves out the check that
	// needs one).
	Create func(ctx context.Context, a Account) (id string, err error)

	// Usernames is how logins match usernames. Default Exact.
	Usernames Matching
	// EmailLogin says that the store also takes an account's e-mail as its
	// login, without regard to case, when no username equals the login,
	// as users.Store does. Create then receives e-mails. Default off.
	EmailLogin bool
	// Context says that the store's methods stop when their context ends,
	// failing with an error that matches ctx.Err() under errors.Is, as
	// users.Store documents. Default off: the suite then only checks that a
	// canceled context never reads as invalid credentials.
	Context bool
	// PasswordChecks, when set, returns how many password checks (hash
	// verifications) the store has performed so far; the suite then checks
	// that every failed login performs as many as a successful one.
	PasswordChecks func() int64
}
