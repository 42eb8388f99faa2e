package pipeline

import (
	"context"
	"time"
)

// EventKind says which event issued the tokens of an [Event].
type EventKind string

// Kind is the former name of [EventKind].
//
// Deprecated: use EventKind.
type Kind = EventKind

// The kinds of events the pipeline runs on.
const (
	// Obtained: a login issued a new session (a refresh and an access token).
	Obtained EventKind = "obtained"
	// Refreshed: a refresh token issued an access token (and, with rotation,
	// a new refresh token, child of the old one).
	Refreshed EventKind = "refreshed"
	// Updated: a refresh token was exchanged for a new refresh and access pair.
	Updated EventKind = "updated"
	// Manual: the application ran the pipeline by hand for tokens it made.
	Manual EventKind = "manual"
)

// Token is an issued token as plain values: what the registry records of it.
type Token struct {
	// ID is the token's jti.
	ID string
	// Type is "access", "refresh" or "sliding".
	Type string
	// SessionID is the sid claim: the jti of the session's first refresh
	// token, the root of its tree.
	SessionID string
	UserID    string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Generation is the user's cut-off generation the token's session was
	// issued under (the gen claim); see registry.Generation.
	Generation int64
}

// Pair links a token to the token it was issued from. An access token's
// parent is its refresh token; a rotated refresh token's parent is the one it
// replaced; the first refresh token of a session has no parent.
type Pair struct {
	Child  Token
	Parent *Token
}

// Event is what a [Step] receives: the tokens an event issued and the facts
// of the request that issued them, captured when it happened, so a step that
// runs later in the background sees the same values.
type Event struct {
	Kind EventKind
	// Pairs lists the issued tokens, each with its parent, parents first.
	Pairs []Pair
	// UserID is the ID of the user the tokens were issued to, "" if none.
	UserID string
	// UserAgent is the request's User-Agent header, as sent.
	UserAgent string
	// ClientIP is the client address, resolved through the trusted proxies.
	ClientIP string
	// ForwardedFor is the X-Forwarded-For chain when the peer is a trusted
	// proxy, nearest hop last; empty otherwise.
	ForwardedFor []string
	// Time is when the tokens were issued.
	Time time.Time
}

// Tokens returns every token the event issued, parents before children,
// each once.
func (e *Event) Tokens() []Token {
	seen := make(map[string]bool, len(e.Pairs)*2)
	var out []Token
	add := func(t Token) {
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	for _, p := range e.Pairs {
		if p.Parent != nil {
			add(*p.Parent)
		}
		add(p.Child)
	}
	return out
}

// clone copies e deeply enough that the caller may change or reuse
// anything it reaches: the pairs, the parents they point to, and the
// forwarded-for chain.
func (e *Event) clone() Event {
	ev := *e
	ev.Pairs = make([]Pair, len(e.Pairs))
	for i, p := range e.Pairs {
		if p.Parent != nil {
			parent := *p.Parent
			p.Parent = &parent
		}
		ev.Pairs[i] = p
	}
	ev.ForwardedFor = append([]string(nil), e.ForwardedFor...)
	return ev
}

// Step is one stage of the pipeline. It returns an error to stop the steps
// after it for this event; the error is logged and reported, and the
// request that issued the tokens is not failed by it when the pipeline runs
// in the background.
//
// A Runner may run a step more than once for one event (retries, the
// journal's replays, two instances replaying at once, in any order), so a
// step must be idempotent. It must neither change the event, which the
// steps after it and the journal share, nor keep it after it returns. When
// ctx ends under it, it returns an error matching ctx.Err() and leaves no
// half-written work (within Options.Wrap's transaction, none that
// outlives the attempt). Package pipeline/steptest checks a step for all
// of this.
type Step func(ctx context.Context, e *Event) error
