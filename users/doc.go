// Package users is ginjwt's default account store: the [User] model kept in
// the application's database through GORM, password hashing, and the
// [Store] that logs users in.
//
//	if err := users.Migrate(ctx, db); err != nil { … }
//	store := users.NewStore(db)
//	u := users.NewUser("alice")
//	u.Email = "alice@example.com"
//	err := store.Create(ctx, u, "correct horse battery staple")
//	u, err = store.Authenticate(ctx, "Alice@Example.com", "correct horse battery staple")
//
// # Password hashing
//
// New passwords are hashed with argon2id, by default with OWASP's
// parameters ([DefaultParams]: 19 MiB, two passes, one lane), and stored in
// the self-describing PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// [CheckPassword] reads the parameters from the string, so hashes made with
// older parameters keep working, and it also verifies bcrypt hashes
// ("$2a$", "$2b$", "$2y$") imported from other systems. Parameters beyond
// sane limits are refused rather than computed, so a tampered row cannot
// make a login allocate gigabytes.
//
// When a login succeeds with a hash that [NeedsRehash] — bcrypt, or argon2id
// with parameters other than the store's — [Store.Authenticate] re-hashes
// the password and saves it: raising the parameters upgrades every account
// as its owner next logs in.
//
// A [Hasher] bounds how many hashes run at once (GOMAXPROCS by default), so
// a burst of logins waits for a slot instead of holding 19 MiB each.
//
// # Timing
//
// [Store.Authenticate] answers [ErrInvalidCredentials] alike for an unknown
// login, a wrong password, an inactive account and an unusable password,
// and does the same hashing work in each case: an unknown login is checked
// against a dummy argon2id hash made with the store's parameters when the
// store was created. How long a failed login takes therefore does not tell
// whether the account exists. (The database lookup itself is not padded.)
//
// # Bringing your own user store
//
// ginjwt asks only for its UserStore interface:
//
//	type UserStore interface {
//		Authenticate(ctx context.Context, login, password string) (*users.User, error)
//		Find(ctx context.Context, id string) (*users.User, error)
//	}
//
// [*Store] satisfies it. An application with accounts of its own implements
// the two methods over them and returns [*User] values built from its
// records: ID (its own key, as a string), Username, IsActive and Perms are
// what tokens carry. When such an application changes a password or
// deactivates an account, it cuts the user's tokens off itself: with
// ginjwt's Auth.LogoutEverywhere after the change, or, to commit both
// together, with registry.Registry.CutOffInTx inside its own transaction.
// Authenticate should fail with an error wrapping
// [ErrInvalidCredentials] for bad logins and Find with one wrapping
// [ErrNotFound]; [CheckPassword] and [Hasher] are usable on their own to
// verify the application's hashes.
package users
