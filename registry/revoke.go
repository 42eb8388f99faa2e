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
		if err := tx.Select("id", "jti", "expires_at").Where("id IN ? AND revoked_at IS NULL", part).Find(&tokens).Error; err != nil {
			return nil, 0, fmt.Errorf("registry: revoke: %w", err)
		}
		if len(tokens) == 0 {
			continue
		}
		live := make([]int64, 0, len(tokens))
		for _, t := range tokens {
			live = append(live, t.ID)
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
	return []Revocation{{Kind: KindSession, Subject: sid, At: now, Until: now.Add(r.opts.MaxLifetime), Reason: reason, CreatedAt: now}}, nil
}

// CutOffUser revokes every token of the user issued before at — "log out
// everywhere". Tokens issued at or after at are unaffected.
func (r *Registry) CutOffUser(ctx context.Context, userID string, at time.Time) error {
	_, err := r.revoke(ctx, func(tx *gorm.DB, _ time.Time) ([]Revocation, error) {
		return r.cutOffIn(tx, userID, at)
	})
	return err
}

// CutOffInTx is CutOffUser inside the caller's transaction: the users
// store runs it when a password changes or an account is deactivated, so
// the change and the cut-off commit together. The returned function applies
// the cut-off to this instance's view and must run after tx commits.
func (r *Registry) CutOffInTx(ctx context.Context, tx *gorm.DB, userID string, at time.Time) (afterCommit func(), err error) {
	rows, err := r.cutOffIn(tx.WithContext(ctx), userID, at)
	if err != nil {
		return nil, err
	}
	if err := r.writeLog(tx.WithContext(ctx), rows); err != nil {
		return nil, err
	}
	return func() { r.view.apply(rows, r.now()) }, nil
}

func (r *Registry) cutOffIn(tx *gorm.DB, userID string, at time.Time) ([]Revocation, error) {
	now := r.now()
	// Tokens carry iat to the millisecond: one issued in the same
	// millisecond as the cut-off is taken to come after it.
	at = dbTime(at).Truncate(time.Millisecond)
	err := tx.Model(&Token{}).Scopes(OfUser(userID)).
		Where("issued_at < ? AND revoked_at IS NULL", at).
		Updates(map[string]any{"revoked_at": now, "revoke_reason": ReasonCutOff}).Error
	if err != nil {
		return nil, fmt.Errorf("registry: cut off user: %w", err)
	}
	return []Revocation{{Kind: KindUser, Subject: userID, At: at, Until: at.Add(r.opts.MaxLifetime), Reason: ReasonCutOff, CreatedAt: now}}, nil
}
