// Package registry records every token ginjwt issues in the application's
// database and revokes any of them, at once, without a query per request.
//
// # What it stores
//
// Tokens form a tree ([Token]): a refresh token is the parent of the access
// tokens it minted, a rotated refresh token the child of the one it
// replaced, and the session is the tree's root (its jti is the tokens' sid
// claim). [TokenUserConnection] ties tokens to users. [Migrate] creates the
// tables; ginjwt.Migrate runs it with the other packages'.
//
// # Who writes
//
// Tokens are recorded by the registration pipeline's steps
// ([Registry.RegisterPairs], [Registry.ConnectUser]), inside one transaction
// per login ([Registry.InTx]); asynchronous registrations go through a
// journal ([Registry.Journal]) so that a crash delays them, never loses
// them. A refresh goes through [Registry.Rotate], which decides rotation,
// grace-window replay and reuse detection in one transaction.
//
// Every revocation — [Registry.Expire] (a token and its subtree),
// [Registry.RevokeSession], [Registry.CutOffUser] and
// [Registry.CutOffInTx] (a user's generation: log out everywhere, a
// password change, a deactivation), and Rotate's reuse detection — is one
// write: the token rows are marked, an entry is appended to the revocation
// log ([Revocation]) in the same transaction, and the entry is applied to
// this process's memory once it has committed (revoke.go).
//
// # Who reads
//
// [Registry.Revoked] answers from memory: the live log entries, caught up
// at start, on PostgreSQL at once by LISTEN/NOTIFY, and every
// Options.Resync. Queries ([Registry.Tokens], [Registry.Sessions],
// [Registry.CollectTree], [Registry.Find], …) read the tables; the archiver
// ([Registry.Archive]) deletes expired tokens and log entries that no
// longer matter.
//
// A started Registry also sets the cut-off of every users.Store on its
// database (users.SetDatabaseCutOff), so a password changed by any Store in
// the process cuts the user's tokens off in the same transaction.
package registry
