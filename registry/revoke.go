package registry

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Reasons recorded with revocations.
const (
	ReasonExpired   = "expired"            // Expire: force-expired on request
	ReasonLogout    = "logout"             // the session logged out
	ReasonRotated   = "rotated"            // replaced by its child (BlacklistAfterRotation)
	ReasonReuse     = "reuse_detected"     // a rotated-out refresh token came back
	ReasonOnRefresh = "expired_on_refresh" // ExpireOnRefresh: superseded by a new pair
	ReasonCutOff    = "user_cut_off"       // password change, deactivation, log out everywhere
)

// chunk bounds the IDs in one IN list: both engines limit bound parameters.
const chunk = 1000

// Expire force-expires the tokens with these registry IDs and every token
// descending from them, in one transaction, and returns how many were
// revoked by this call (tokens already revoked are left as they were). The
// revocation takes effect in this instance at once, in others at their next
// resync or notification.
func (r *Registry) Expire(ctx context.Context, ids ...int64) (int, error) {
	var n int
	_, err := r.revoke(ctx, func(tx *gorm.DB, now time.Time) ([]Revocation, error) {
		tree, err := collect(tx, subtreeQuery, ids)
		if err != nil {
			return nil, err
		}
		var rows []Revocation
		rows, n, err = r.revokeTokens(tx, now, tree, ReasonExpired)
		return rows, err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// revokeTokens marks the tokens with these IDs revoked, unless they are
// already, and returns the log rows for those still unexpired and how many
// tokens it marked, expired ones included.
func (r *Registry) revokeTokens(tx *gorm.DB, now time.Time, ids []int64, reason string) ([]Revocation, int, error) {
	var rows []Revocation
	n := 0
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		var tokens []Token
		if err := tx.Select("id", "jti", "type", "expires_at").Where("id IN ? AND revoked_at IS NULL", part).Find(&tokens).Error; err != nil {
			return nil, 0, fmt.Errorf("registry: revoke: %w", err)
		}
		if len(tokens) == 0 {
			continue
		}
		live := make([]int64, 0, len(tokens))
		for _, t := range tokens {
			live = append(live, t.ID)
			// A refresh token superseded by a refresh needs no log entry:
			// only Rotate accepts refresh tokens, and it reads the row. So a
			// client refreshing in a loop with BlacklistAfterRotation or
			// ExpireOnRefresh does not grow the log and every instance's
			// memory by one 24-hour entry per refresh.
			if t.Type == "refresh" && (reason == ReasonRotated || reason == ReasonOnRefresh) {
				continue
			}
			// The verifier accepts a token until exp plus leeway: so long
			// must its revocation hold.
			if until := dbTime(t.ExpiresAt.Add(r.opts.Leeway)); now.Before(until) {
				rows = append(rows, Revocation{Kind: KindToken, Subject: t.JTI, At: now, Until: until, Reason: reason, CreatedAt: now})
			}
		}
		err := tx.Model(&Token{}).Where("id IN ?", live).
			Updates(map[string]any{"revoked_at": now, "revoke_reason": reason}).Error
		if err != nil {
			return nil, 0, fmt.Errorf("registry: revoke: %w", err)
		}
		n += len(live)
	}
	return rows, n, nil
}

// RevokeSession revokes every token of the session sid — the ones recorded
// and any not recorded yet — for reason (ReasonLogout, ReasonReuse, …).
func (r *Registry) RevokeSession(ctx context.Context, sid, reason string) error {
	_, err := r.revoke(ctx, func(tx *gorm.DB, now time.Time) ([]Revocation, error) {
		return r.revokeSessionIn(tx, now, sid, reason)
	})
	return err
}

func (r *Registry) revokeSessionIn(tx *gorm.DB, now time.Time, sid, reason string) ([]Revocation, error) {
	err := tx.Model(&Token{}).Where("session_id = ? AND revoked_at IS NULL", sid).
		Updates(map[string]any{"revoked_at": now, "revoke_reason": reason}).Error
	if err != nil {
		return nil, fmt.Errorf("registry: revoke session: %w", err)
	}
	return []Revocation{{Kind: KindSession, Subject: sid, At: now, Until: r.until(now), Reason: reason, CreatedAt: now}}, nil
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
