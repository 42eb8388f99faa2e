package remote

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// follower follows the auth service's revocation feed into a
// registry.Set, the same set a Registry keeps of its own log.
type follower struct {
	cl  *Client
	set atomic.Pointer[registry.Set]
	// lastGood is when the last read that reached the end of the feed
	// began: every revocation committed before it is in the set.
	lastGood atomic.Int64 // unix nanoseconds
	mu       sync.Mutex   // one read at a time
	failing  atomic.Bool  // for logging the start and end of an outage once
	reads    atomic.Int64
}

// feedAnswer is the auth service's GET /revocations.
type feedAnswer struct {
	Revocations []registry.Revocation `json:"revocations"`
	Next        int64                 `json:"next"`
	More        bool                  `json:"more"`
	Resync      bool                  `json:"resync"`
}

// maxPagesPerSync bounds one Sync: a client very far behind catches up
// over several.
const maxPagesPerSync = 100

// sync reads the feed to its end (or maxPagesPerSync pages) into the
// set, which is never replaced: a snapshot (after a resync too) is merged
// into it, so the revocations it holds — a logout applied here while the
// read was under way among them — are kept until their Until, and a read
// cut short leaves a superset of what was held. lastGood advances only
// after a read that reached the end.
func (f *follower) sync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg := &f.cl.cfg
	began := cfg.Clock()
	set := f.set.Load()
	since := set.Cursor(began)
	snapshot := since == 0
	resynced := false
	for range maxPagesPerSync {
		a, err := f.cl.call(ctx, http.MethodGet, cfg.authURL(cfg.AuthPaths.Revocations)+"?since="+strconv.FormatInt(since, 10), nil, nil)
		if err != nil {
			return err
		}
		var page feedAnswer
		if err := a.decode(&page); err != nil {
			return err
		}
		if page.Resync {
			if resynced {
				return errors.New("remote: the revocation feed asked for a resync twice in a row")
			}
			resynced, since, snapshot = true, 0, true
			set.Rewind(0)
			continue
		}
		now := cfg.Clock()
		for _, r := range page.Revocations {
			if r.Kind == registry.KindUser && !set.Holds(r) {
				f.cl.users.forget(r.Subject) // perms or activity may have changed: sync again
			}
		}
		if snapshot {
			set.Load(page.Revocations, page.Next, now)
		} else {
			set.Apply(page.Revocations, now)
		}
		if !page.More {
			set.Prune(now)
			f.lastGood.Store(began.UnixNano())
			f.reads.Add(1)
			return nil
		}
		since, snapshot = page.Next, false
	}
	return nil // partly caught up, into the set; lastGood stays
}

// loop reads the feed every FeedInterval until ctx ends, logging the start
// and the end of an outage once each.
func (f *follower) loop(ctx context.Context) {
	t := time.NewTicker(f.cl.cfg.FeedInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := f.sync(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !f.failing.Swap(true):
			f.cl.log.Warn("ginjwt remote: the revocation feed cannot be read; tokens issued before the last good read will be refused after MaxFeedLag", "error", err, "max_feed_lag", f.cl.cfg.MaxFeedLag)
		case err == nil && f.failing.Swap(false):
			f.cl.log.Info("ginjwt remote: the revocation feed is read again")
		}
	}
}

// Check is ginjwt's Revocations: the token is refused when the set
// revokes it; when the feed has gone unread for longer than MaxFeedLag, a
// token issued before the last good read (with Leeway, at least a second,
// for the two clocks) is refused as remote_unavailable (the revocations
// since are unknown). With RemoteVerify the auth service
// is asked too.
func (cl *Client) Check(ctx context.Context, token string, c *ginjwt.Claims) error {
	t := pipeline.Token{ID: c.ID, SessionID: c.SessionID, UserID: c.UserID, IssuedAt: c.IssuedAt, Generation: c.Generation}
	kind, revoked := cl.feed.set.Load().RevokedBy(&t)
	if revoked && kind != registry.KindForgotten {
		return ginjwt.ErrTokenRevoked
	}
	now := cl.cfg.Clock()
	last := time.Unix(0, cl.feed.lastGood.Load())
	// iat is the auth service's clock, in whole seconds; last is this
	// one's: a token counts as issued after the read only past the leeway
	// (at least a second).
	if now.Sub(last) > cl.cfg.MaxFeedLag && !c.IssuedAt.After(last.Add(max(cl.cfg.Leeway, time.Second))) {
		return ginjwt.ErrRemoteUnavailable
	}
	// Memory that forgot revocations past its bound cannot vouch for the
	// token: the auth service decides.
	if cl.cfg.RemoteVerify || kind == registry.KindForgotten {
		return cl.verified.check(ctx, token, c, now)
	}
	return nil
}

// verifyCache remembers the auth service's answers about tokens, for
// RemoteVerify.
type verifyCache struct {
	cl      *Client
	mu      sync.Mutex
	entries map[string]verdict
}

type verdict struct {
	err   error
	until time.Time
}

// maxVerdicts bounds the cache; when full it starts over.
const maxVerdicts = 100_000

func (v *verifyCache) check(ctx context.Context, token string, c *ginjwt.Claims, now time.Time) error {
	v.mu.Lock()
	e, ok := v.entries[token]
	v.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.err
	}
	cfg := &v.cl.cfg
	body, _ := json.Marshal(map[string]string{"token": token})
	a, err := v.cl.call(ctx, http.MethodPost, cfg.authURL(cfg.AuthPaths.Verify), body, http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return err
	}
	var verr error
	switch a.status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		var e errorBody
		_ = json.Unmarshal(a.body, &e)
		verr = ginjwt.ErrTokenRevoked
		if e.Error == "token_expired" {
			verr = ginjwt.ErrTokenExpired
		} else if e.Error != "token_revoked" {
			verr = ginjwt.ErrTokenInvalid
		}
	default:
		return ginjwt.ErrRemoteBadAnswer
	}
	until := now.Add(cfg.RemoteVerifyTTL)
	if c.ExpiresAt.Before(until) {
		until = c.ExpiresAt // never past the token's exp
	}
	v.mu.Lock()
	if len(v.entries) >= maxVerdicts {
		clear(v.entries)
	}
	v.entries[token] = verdict{verr, until}
	v.mu.Unlock()
	return verr
}
