package registry

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Reasons recorded with revocations.
const (
	ReasonExpired   = "expired"            // Expire: force-expired on request
	ReasonLogout    = "logout"             // the session logged out
	ReasonRotated   = "rotated"            // replaced by its child (Config.Registry.RevokeRotated)
	ReasonReuse     = "reuse_detected"     // a rotated-out refresh token came back
	ReasonOnRefresh = "expired_on_refresh" // Config.Registry.RevokeOthersOnRefresh: superseded by a new pair
	ReasonCutOff    = "user_cut_off"       // password change, deactivation, log out everywhere
	ReasonAdmin     = "admin"              // revoked by an operator (the CLI)
)

// chunk bounds the IDs in one IN list: both engines limit bound parameters.
const chunk = 1000

// A revocation is what one transaction revokes. It is the one way the
// registry revokes anything — Expire, RevokeSession, CutOffUser and
// CutOffInTx, and Rotate's reuse detection and superseded tokens all go
// through it — so the token rows, the revocation log and this instance's
// memory always say the same: its methods mark the rows and gather the log
// entries, write appends them to the log in the transaction, and apply,
// once the transaction has committed, feeds them to the in-memory view.
type revocation struct {
	r    *Registry
	tx   *gorm.DB
	now  time.Time
	rows []Revocation
	// actorID and actorIP are who revokes (see WithActor), from tx's
	// context; nil when it carries none.
	actorID, actorIP *string
}

// begin starts a revocation in tx, dated now, by the actor tx's context
// carries, if any.
func (r *Registry) begin(tx *gorm.DB, now time.Time) *revocation {
	v := &revocation{r: r, tx: tx, now: now}
	if a, ok := ActorFrom(tx.Statement.Context); ok {
		v.actorID, v.actorIP = a.columns()
	}
	return v
}

// revoke runs fn on a revocation in a transaction of its own, writes the
// log and applies it to this instance's view once committed.
func (r *Registry) revoke(ctx context.Context, fn func(v *revocation) error) error {
	var v *revocation
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		v = r.begin(tx, r.now())
		if err := fn(v); err != nil {
			return err
		}
		return v.write()
	})
	if err != nil {
		return err
	}
	v.apply()
	return nil
}

// tokens marks the tokens with these IDs revoked, unless they are already,
// and returns how many it marked, expired ones included. Log entries are
// kept for those not yet expired.
func (v *revocation) tokens(ids []int64, reason string) (int, error) {
	n := 0
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		var tokens []Token
		if err := v.tx.Select("id", "jti", "type", "expires_at").Where("id IN ? AND revoked_at IS NULL", part).Find(&tokens).Error; err != nil {
			return 0, fmt.Errorf("registry: revoke: %w", err)
		}
		if len(tokens) == 0 {
			continue
		}
		live := make([]int64, 0, len(tokens))
		for _, t := range tokens {
			live = append(live, t.ID)
			// A refresh token superseded by a refresh needs no log entry:
			// only Rotate accepts refresh tokens, and it reads the row. So a
			// client refreshing in a loop with Config.Registry.RevokeRotated or
			// Config.Registry.RevokeOthersOnRefresh does not grow the log and every instance's
			// memory by one 24-hour entry per refresh.
			if t.Type == "refresh" && (reason == ReasonRotated || reason == ReasonOnRefresh) {
				continue
			}
			// The verifier accepts a token until exp plus leeway: so long
			// must its revocation hold.
			if until := dbTime(t.ExpiresAt.Add(v.r.opts.Leeway)); v.now.Before(until) {
				v.rows = append(v.rows, Revocation{Kind: KindToken, Subject: t.JTI, At: v.now, Until: until, Reason: reason, CreatedAt: v.now})
			}
		}
		err := v.tx.Model(&Token{}).Where("id IN ?", live).
			Updates(map[string]any{"revoked_at": v.now, "revoke_reason": reason}).Error
		if err != nil {
			return 0, fmt.Errorf("registry: revoke: %w", err)
		}
		n += len(live)
	}
	return n, nil
}

// session revokes every token of the session sid, the ones recorded and
// any not recorded yet.
func (v *revocation) session(sid, reason string) error {
	err := v.tx.Model(&Token{}).Where("session_id = ? AND revoked_at IS NULL", sid).
		Updates(map[string]any{"revoked_at": v.now, "revoke_reason": reason}).Error
	if err != nil {
		return fmt.Errorf("registry: revoke session: %w", err)
	}
	v.rows = append(v.rows, Revocation{Kind: KindSession, Subject: sid, At: v.now, Until: v.r.until(v.now), Reason: reason, CreatedAt: v.now})
	return nil
}

// user cuts the user off: it raises the user's generation and marks the
// user's recorded tokens of older generations revoked. at is recorded for
// people; the cut-off is ordered by the transaction's commit.
func (v *revocation) user(userID string, at time.Time) error {
	gen, err := raiseGeneration(v.tx, userID, v.now)
	if err != nil {
		return err
	}
	err = v.tx.Model(&Token{}).Scopes(OfUser(userID)).
		Where("generation < ? AND revoked_at IS NULL", gen).
		Updates(map[string]any{"revoked_at": v.now, "revoke_reason": ReasonCutOff}).Error
	if err != nil {
		return fmt.Errorf("registry: cut off user: %w", err)
	}
	v.rows = append(v.rows, Revocation{Kind: KindUser, Subject: userID, Generation: gen, At: at, Until: v.r.until(v.now), Reason: ReasonCutOff, CreatedAt: v.now})
	return nil
}

// othersOf revokes the session's live tokens other than keep, as
// superseded by a refresh.
func (v *revocation) othersOf(sid string, keep map[string]int64) error {
	var ids []int64
	q := v.tx.Model(&Token{}).Where("session_id = ? AND revoked_at IS NULL AND expires_at > ?", sid, v.now.Add(-v.r.opts.Leeway))
	if len(keep) > 0 {
		kept := make([]int64, 0, len(keep))
		for _, id := range keep {
			kept = append(kept, id)
		}
		q = q.Where("id NOT IN ?", kept)
	}
	if err := q.Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("registry: expire on refresh: %w", err)
	}
	_, err := v.tokens(ids, ReasonOnRefresh)
	return err
}

// notifyChannel is the PostgreSQL channel revocations are announced on.
const notifyChannel = "ginjwt_revocations"

// write appends the gathered entries to the revocation log in the
// transaction and, on PostgreSQL, announces them to other instances when
// it commits.
func (v *revocation) write() error {
	if len(v.rows) == 0 {
		return nil
	}
	for i := range v.rows {
		v.rows[i].ActorID, v.rows[i].ActorIP = v.actorID, v.actorIP
	}
	if err := v.tx.CreateInBatches(v.rows, 500).Error; err != nil {
		return fmt.Errorf("registry: write the revocation log: %w", err)
	}
	if v.r.postgres {
		last := strconv.FormatInt(v.rows[len(v.rows)-1].ID, 10)
		if err := v.tx.Exec("SELECT pg_notify(?, ?)", notifyChannel, last).Error; err != nil {
			return fmt.Errorf("registry: notify: %w", err)
		}
	}
	return nil
}

// apply feeds the entries to this instance's view; it must run after the
// transaction has committed.
func (v *revocation) apply() { v.r.view.apply(v.rows, v.now) }

// Expire force-expires the tokens with these registry IDs and every token
// descending from them, in one transaction, and returns how many were
// revoked by this call (tokens already revoked are left as they were). The
// revocation takes effect in this instance at once, in others at their next
// resync or notification.
func (r *Registry) Expire(ctx context.Context, ids ...int64) (int, error) {
	var n int
	err := r.revoke(ctx, func(v *revocation) error {
		tree, err := collect(v.tx, subtreeQuery, ids)
		if err != nil {
			return err
		}
		n, err = v.tokens(tree, ReasonExpired)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// RevokeSession revokes every token of the session sid — the ones recorded
// and any not recorded yet — for reason (ReasonLogout, ReasonReuse, …).
func (r *Registry) RevokeSession(ctx context.Context, sid, reason string) error {
	return r.revoke(ctx, func(v *revocation) error { return v.session(sid, reason) })
}

// clockMargin is added to how long session and user revocations are kept,
// for instances whose clocks disagree: a token's exp is written by the
// issuer's clock, the entry's end by the revoker's.
const clockMargin = 5 * time.Minute

// until is when a session or user revocation made at now stops mattering:
// every token it can affect has expired by then, by any clock within
// clockMargin of this one.
func (r *Registry) until(now time.Time) time.Time {
	return now.Add(r.opts.MaxLifetime + clockMargin)
}
