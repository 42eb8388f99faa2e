// Package userstoretest is a conformance suite for user stores: any
// implementation of ginjwt's UserStore — [users.Store], or an
// application's own over its accounts — runs [Run] from one of its tests
// and learns whether it keeps the contract ginjwt relies on.
//
//	func TestMyStore(t *testing.T) {
//		userstoretest.Run(t, func(t *testing.T) userstoretest.Fixture {
//			s := newMyStore(t) // empty, of this subtest alone
//			return userstoretest.Fixture{
//				Store: s,
//				Create: func(ctx context.Context, a userstoretest.Account) (string, error) {
//					return s.add(ctx, a.Username, a.Password, a.Active, a.Perms)
//				},
//			}
//		})
//	}
//
// example_test.go holds a complete in-memory store that passes the suite.
//
// # What it checks
//
// Each check is a subtest with a fresh fixture:
//
//   - Authenticate: the right password returns the user (ID, username,
//     active flag and permissions as created); a wrong password, a password
//     differing in case, by a prefix or past its 72nd byte (where bcrypt
//     stops reading), an empty or overlong password, an unknown or empty
//     login and an inactive account all fail with an error matching
//     [users.ErrInvalidCredentials] under errors.Is, never with a user,
//     and never one that also matches [users.ErrNotFound].
//   - Logins: how a login matches usernames ([Fixture.Usernames]): with
//     [Exact], "Alice", " alice" and "alice\x00" name nobody when the user
//     is "alice"; with [FoldCase], "ALICE" logs alice in. Under either,
//     SQL LIKE wildcards ("%", "_lice"), quotes, invalid UTF-8, NUL bytes
//     and a 10,000-byte login, each with alice's right password, fail with
//     ErrInvalidCredentials: they come from request bodies. With
//     [Fixture.EmailLogin], the e-mail logs in without regard to case, and
//     a username equal to another account's e-mail wins over it.
//   - Find: the user by ID, with its fields; an inactive user comes back
//     inactive or not at all; an ID nobody has — empty, "%", a quote, a NUL
//     byte, invalid UTF-8 — fails with [users.ErrNotFound].
//   - Copies: each call returns a user of its own: changing one changes
//     neither the store nor what later calls return.
//   - SameWork, when [Fixture.PasswordChecks] is set: every failed login
//     performs as many password checks as a successful one, so that an
//     unknown login costs the hashing work of a known one. Nothing is
//     timed: the count is what the store reports.
//   - Context: a canceled context is never turned into
//     ErrInvalidCredentials (ginjwt would count it as a failed login);
//     with [Fixture.Context], every method fails with an error matching
//     context.Canceled; and a burst of canceled calls leaves the store
//     usable (no hashing slot or connection leaks).
//   - Concurrent: logins, failures and finds from several goroutines at
//     once, each answered as alone; run the suite with -race.
//   - AccountKey, when the store implements it (the optional method
//     ginjwt's login throttle uses): one non-empty key per account,
//     whichever login names it, active or not; "" for logins naming nobody;
//     and no password checked.
//   - TouchLastLogin, when the store implements it (Config.Accounts.UpdateLastLogin):
//     Find then shows the time.
//
// # Import graph
//
// The package imports [users] and the standard library only: it declares
// the two methods of ginjwt's UserStore as [Store] rather than importing
// ginjwt, so a store's tests pull in neither gin nor the token registry,
// and ginjwt never imports this package.
package userstoretest
