package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginjwt/ginjwt/pipeline"
)

// Outcome is what presenting a refresh token for rotation came to.
type Outcome int

// The outcomes of [Registry.Rotate].
const (
	// Rotated: the token was current; a new child was issued and recorded.
	Rotated Outcome = iota + 1
	// Replayed: the token had just been rotated (within the grace window)
	// and its child is handed out again, so the two requests share one
	// branch.
	Replayed
	// Reused: a rotated-out token came back after the grace window, or an
	// older ancestor came back: its whole session was revoked.
	Reused
	// Refused: the token was revoked.
	Refused
	// Renewed: without rotation, the token issued a new access token and
	// stays the session's refresh token.
	Renewed
)

// RotatePolicy says how [Registry.Rotate] treats the token presented.
type RotatePolicy struct {
	// Rotate issues a new refresh token, child of the presented one, and
	// detects reuse; without it the presented token only issues an access
	// token (Renewed), which is worth a transaction only with ExpireOthers.
	Rotate bool
	// Grace is how long after a rotation the same token may be presented
	// again and get the same child; 0 or less: no grace.
	Grace time.Duration
	// RevokeRotated revokes the presented token once it has a child
	// (Config.Registry.RevokeRotated).
	RevokeRotated bool
	// ExpireOthers revokes every other live token of the session once the
	// new pair is issued (Config.Registry.RevokeOthersOnRefresh).
	ExpireOthers bool
}

// IssueFunc issues the tokens a refresh buys, descending from parent: the
// presented token when Rotated, its existing child when Replayed (to be
// signed again with the same claims). It returns the issued tokens with
// their parents, for the registry to record in the same transaction.
type IssueFunc func(outcome Outcome, parent pipeline.Token) ([]pipeline.Pair, error)

// Rotate decides atomically what presenting the refresh token presented
// buys, with reuse detection when p.Rotate is set: of any number of
// concurrent refreshes with one token, one rotates and the others replay
// the same child (within the grace window); outside the window the first
// replay revokes the session and the ones after it are refused, so a
// session never has two live branches. The presented token is locked for
// the duration (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises
// writers).
//
// On Rotated, Replayed and Renewed, issue is called inside the transaction
// and its tokens are recorded and connected to userID. Reused revokes the
// session; Refused (the token, its session or its user is revoked) changes
// nothing.
func (r *Registry) Rotate(ctx context.Context, presented pipeline.Token, userID string, p RotatePolicy, issue IssueFunc) (Outcome, error) {
	if kind, revoked := r.view.revoked(&presented); revoked && kind != KindToken {
		return Refused, nil
	}
	var outcome Outcome
	var v *revocation
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		outcome = 0
		cur, err := lockToken(tx, presented, r.now())
		if err != nil {
			return err
		}
		now := r.now() // once the lock is held: waiting for it does not eat the grace window
		v = r.begin(tx, now)
		if r.view.sessionRevoked(cur.SessionID) {
			outcome = Refused // a concurrent reuse revoked the session while we waited
			return nil
		}
		// The user's generation, from the database and share-locked: a
		// cut-off committed on any instance before this read refuses the
		// token, and one that commits later waits for this transaction and
		// then revokes what it issued (its tokens carry the old generation).
		gen, err := readGeneration(tx, presented.UserID, true)
		if err != nil {
			return err
		}
		if presented.Generation < gen {
			outcome = Refused
			return nil
		}
		// A token revoked as rotated is only let through to the rotation
		// below, which tells a replay within the grace window from reuse;
		// renewing from it without rotation would revive a rotated-out token.
		if cur.RevokedAt != nil && (cur.RevokeReason != ReasonRotated || !p.Rotate) {
			outcome = Refused
			return nil
		}
		var children []Token
		if p.Rotate {
			if err := tx.Where("parent_id = ? AND type = ?", cur.ID, cur.Type).Order("id").Limit(1).Find(&children).Error; err != nil {
				return fmt.Errorf("registry: rotate: %w", err)
			}
		}
		parent := toPipeline(cur, presented.UserID)
		switch {
		case !p.Rotate:
			outcome = Renewed
		case len(children) > 0:
			child := children[0]
			var grandchildren int64
			if err := tx.Model(&Token{}).Where("parent_id = ? AND type = ?", child.ID, child.Type).Count(&grandchildren).Error; err != nil {
				return fmt.Errorf("registry: rotate: %w", err)
			}
			if grandchildren > 0 || p.Grace <= 0 || now.Sub(child.IssuedAt) > p.Grace || child.RevokedAt != nil {
				outcome = Reused
				if err := v.session(cur.SessionID, ReasonReuse); err != nil {
					return err
				}
				return v.write()
			}
			outcome, parent = Replayed, toPipeline(&child, presented.UserID)
		default:
			outcome = Rotated
		}
		pairs, err := issue(outcome, parent)
		if err != nil {
			return err
		}
		ids, err := register(tx, pairs, now)
		if err != nil {
			return err
		}
		if userID != "" {
			if err := connectUser(tx, ids, userID, now); err != nil {
				return err
			}
		}
		// A rotated-out token is revoked as "rotated", so that a replay
		// within the grace window is still told apart from a revoked token.
		if outcome == Rotated && (p.RevokeRotated || p.ExpireOthers) {
			if _, err := v.tokens([]int64{cur.ID}, ReasonRotated); err != nil {
				return err
			}
		}
		if (outcome == Rotated || outcome == Renewed) && p.ExpireOthers {
			ids[cur.JTI] = cur.ID // already revoked when rotated; kept when renewed
			if err := v.othersOf(cur.SessionID, ids); err != nil {
				return err
			}
		}
		return v.write()
	})
	if err != nil {
		return 0, err
	}
	v.apply()
	return outcome, nil
}

// lockToken returns the presented token's row, locked for the transaction,
// recording it first when the registry does not know it yet (a token issued
// before the registry was on, or whose registration is still queued).
func lockToken(tx *gorm.DB, presented pipeline.Token, now time.Time) (*Token, error) {
	if _, err := register(tx, []pipeline.Pair{{Child: presented}}, now); err != nil {
		return nil, err
	}
	var cur Token
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("jti = ?", presented.ID).Take(&cur).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("registry: lock token: %w", err)
	}
	return &cur, nil
}

func toPipeline(t *Token, userID string) pipeline.Token {
	return pipeline.Token{ID: t.JTI, Type: t.Type, SessionID: t.SessionID, UserID: userID, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, Generation: t.Generation}
}
