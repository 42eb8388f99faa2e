package registry

import (
	"context"
	"unicode/utf8"
)

// Actor is who made a revocation, for the audit trail: the user who asked
// for it and the address the request came from. The admin pages set it;
// revocations made without one (a user's own logout, reuse detection, the
// CLI) record none.
type Actor struct {
	// UserID is the acting user's ID (at most 64 bytes are kept).
	UserID string
	// IP is the client address of the request (at most 45 bytes are kept).
	IP string
}

type actorKey struct{}

// WithActor returns a copy of ctx that carries a. Every revocation made
// with that context — [Registry.Expire], [Registry.RevokeSession],
// [Registry.CutOffUser], and the cut-off a users.Store runs when a password
// changes or an account is deactivated — records a in its log entries
// ([Revocation.ActorID], [Revocation.ActorIP]), in the revocation's own
// transaction.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	if ctx == nil {
		return Actor{}, false
	}
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// columns returns the actor as the log's nullable columns, bounded to
// their sizes; nil for empty fields.
func (a Actor) columns() (id, ip *string) {
	if a.UserID != "" {
		s := truncate(a.UserID, 64)
		id = &s
	}
	if a.IP != "" {
		s := truncate(a.IP, 45)
		ip = &s
	}
	return id, ip
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
