package users

import "errors"

// Errors returned by this package. Errors that carry more detail wrap one of
// these, so test with errors.Is. Database driver errors never escape
// unwrapped: a missing row becomes [ErrNotFound], a unique violation
// [ErrDuplicate], anything else is wrapped with a "users: ..." prefix.
var (
	// ErrInvalidCredentials: the login names no user, the password is wrong,
	// or the account is inactive. The three are deliberately alike.
	ErrInvalidCredentials = errors.New("users: invalid credentials")
	// ErrNotFound: no user has that id or username.
	ErrNotFound = errors.New("users: user not found")
	// ErrDuplicate: the username, e-mail or id is already taken.
	ErrDuplicate = errors.New("users: already taken")
	// ErrInvalidPassword: the password is empty or longer than
	// [MaxPasswordLen] bytes, or, when it is being set, shorter than the
	// store's minimum (then [ErrPasswordTooShort] matches too).
	ErrInvalidPassword = errors.New("users: password must be 1 to 1024 bytes")
	// ErrPasswordTooShort: a password being set is shorter than the store's
	// minimum ([WithMinPasswordLen]). The error that carries it is a
	// [*PasswordTooShortError], which names the minimum.
	ErrPasswordTooShort = errors.New("users: password too short")
	// ErrUnknownHash: a stored hash is in a format this package does not
	// recognise (neither argon2id version 19 in PHC form nor bcrypt).
	ErrUnknownHash = errors.New("users: unknown password hash format")
	// ErrMalformedHash: a stored hash has a known format but is damaged, or
	// names parameters beyond this package's limits (see [Params.Validate]).
	ErrMalformedHash = errors.New("users: malformed password hash")
	// ErrBusy: no hashing slot freed up within the Hasher's wait bound
	// ([Hasher.SetMaxWait]): the login was not attempted, so it counts as
	// neither a success nor a failure. ginjwt answers it 503 with Retry-After.
	ErrBusy = errors.New("users: too many passwords being checked; try again shortly")
	// ErrInvalidParams: a [Params] value is outside the accepted limits.
	ErrInvalidParams = errors.New("users: invalid argon2id parameters")
)

// ValidationError reports a field of a [User] (or the password) that
// [Store.Create] or another write refused. Reason is human text without the
// offending value. A password problem also matches [ErrInvalidPassword], and
// a taken username or e-mail also matches [ErrDuplicate], under errors.Is.
type ValidationError struct {
	// Field is the column name: "username", "email", "id" or "password".
	Field string
	// Reason says what is wrong, e.g. "must not be empty".
	Reason string

	err error // the sentinel (and cause) matched by errors.Is, if any
}

// Error returns "users: <field>: <reason>".
func (e *ValidationError) Error() string { return "users: " + e.Field + ": " + e.Reason }

// Unwrap returns the sentinel the error also stands for, or nil.
func (e *ValidationError) Unwrap() error { return e.err }
