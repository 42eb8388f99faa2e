package registry

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// MaxPage bounds the limit of the paginated queries below: a larger limit
// is cut to it.
const MaxPage = 500

// pageBounds checks a page's limit and offset: limit in 1..MaxPage (cut to
// MaxPage), offset not negative.
func pageBounds(limit, offset int) (int, error) {
	if limit <= 0 || offset < 0 {
		return 0, fmt.Errorf("registry: page: limit %d, offset %d", limit, offset)
	}
	return min(limit, MaxPage), nil
}

// SessionsPage is [Registry.Sessions] one page at a time, for users with
// many sessions: up to limit (at most [MaxPage]) of the user's active
// sessions, skipping the first offset, the most recently begun first, and
// how many active sessions the user has in all. It reads the user's live
// refresh (and sliding) tokens once, as Sessions does, and describes only
// the sessions of the page. A limit ≤ 0 or a negative offset is an error.
func (r *Registry) SessionsPage(ctx context.Context, userID string, limit, offset int) ([]Session, int64, error) {
	limit, err := pageBounds(limit, offset)
	if err != nil {
		return nil, 0, err
	}
	gen, err := readGeneration(r.db.WithContext(ctx), userID, false)
	if err != nil {
		return nil, 0, err
	}
	var live []Token
	err = r.Tokens(ctx).Scopes(OfUser(userID), Active(r.now())).
		Where("ginjwt_tokens.type <> ? AND ginjwt_tokens.generation >= ?", "access", gen).
		Select("id", "session_id", "expires_at").Find(&live).Error
	if err != nil {
		return nil, 0, fmt.Errorf("registry: sessions: %w", err)
	}
	// Each session once, with its first live token's ID (the order of the
	// pages) and its latest expiry.
	type found struct {
		first   int64
		session *Session
	}
	byID := map[string]*found{}
	for _, t := range live {
		if r.view.sessionRevoked(t.SessionID) {
			continue
		}
		f := byID[t.SessionID]
		if f == nil {
			f = &found{first: t.ID, session: &Session{ID: t.SessionID}}
			byID[t.SessionID] = f
		}
		f.first = min(f.first, t.ID)
		f.session.ExpiresAt = later(f.session.ExpiresAt, t.ExpiresAt)
	}
	all := make([]*found, 0, len(byID))
	for _, f := range byID {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b *found) int { return cmp.Compare(b.first, a.first) })
	total := int64(len(all))
	all = all[min(offset, len(all)):min(offset+limit, len(all))]
	page := make(map[string]*Session, len(all))
	sids := make([]string, 0, len(all))
	for _, f := range all {
		page[f.session.ID] = f.session
		sids = append(sids, f.session.ID)
	}
	if err := r.describe(ctx, page, sids); err != nil {
		return nil, 0, err
	}
	out := make([]Session, 0, len(sids))
	for _, sid := range sids {
		out = append(out, *page[sid])
	}
	return out, total, nil
}

// treeOrder sorts a session's tokens as a tree, for pages: each refresh (or
// sliding) token in the order they were issued, each followed by the access
// tokens it issued. Rotated refresh tokens are children of the one they
// replaced and were issued after it, so the chain reads down the page.
const treeOrder = `CASE WHEN ginjwt_tokens.type = 'access' AND ginjwt_tokens.parent_id IS NOT NULL THEN ginjwt_tokens.parent_id ELSE ginjwt_tokens.id END,
	CASE WHEN ginjwt_tokens.type = 'access' THEN 1 ELSE 0 END, ginjwt_tokens.id`

// SessionTokens returns up to limit (at most [MaxPage]) of the session's
// tokens in tree order — each refresh (or sliding) token, the rotated ones
// after the one they replaced, followed by the access tokens it issued —
// skipping the first offset, and how many tokens the session has. The
// rows' RevokedAt and RevokeReason say whether and why each was revoked;
// see also [Registry.Generation] for a user's cut-off, which covers tokens
// recorded after it. A limit ≤ 0 or a negative offset is an error.
func (r *Registry) SessionTokens(ctx context.Context, sid string, limit, offset int) ([]Token, int64, error) {
	limit, err := pageBounds(limit, offset)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := r.Tokens(ctx).Scopes(InSession(sid)).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("registry: session tokens: %w", err)
	}
	list := []Token{}
	if total == 0 || int64(offset) >= total {
		return list, total, nil
	}
	err = r.Tokens(ctx).Scopes(InSession(sid)).Order(treeOrder).Limit(limit).Offset(offset).Find(&list).Error
	if err != nil {
		return nil, 0, fmt.Errorf("registry: session tokens: %w", err)
	}
	return list, total, nil
}

// TokenCounts are a user's tokens by state: Active, Expired and Revoked
// split Tokens between them, as in [Stats].
type TokenCounts struct {
	Tokens, Active, Expired, Revoked int64
}

// userTokenStatsQuery counts one user's tokens by state in one pass.
const userTokenStatsQuery = `
SELECT COUNT(*) AS tokens,
	COALESCE(SUM(CASE WHEN revoked_at IS NULL AND expires_at > ? THEN 1 ELSE 0 END), 0) AS active,
	COALESCE(SUM(CASE WHEN revoked_at IS NULL AND expires_at <= ? THEN 1 ELSE 0 END), 0) AS expired,
	COALESCE(SUM(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS revoked
FROM ginjwt_tokens WHERE id IN (SELECT token_id FROM ginjwt_token_users WHERE user_id = ?)`

// UserTokenCounts counts the user's recorded tokens by state, in one
// query. Tokens of a generation below the user's that a cut-off could not
// mark (recorded after it) count by their rows.
func (r *Registry) UserTokenCounts(ctx context.Context, userID string) (TokenCounts, error) {
	now := r.now()
	var c TokenCounts
	if err := r.db.WithContext(ctx).Raw(userTokenStatsQuery, now, now, userID).Scan(&c).Error; err != nil {
		return TokenCounts{}, fmt.Errorf("registry: user token counts: %w", err)
	}
	return c, nil
}

// LogQuery selects entries of the revocation log for
// [Registry.RevocationLog]. The zero LogQuery is the newest page.
type LogQuery struct {
	// Before, when positive, keeps the entries whose ID is below it: the
	// cursor of the next (older) page is the last entry's ID.
	Before int64
	// Subject, when not empty, keeps the entries about it: a jti, a
	// session ID or a user ID.
	Subject string
	// Limit is how many entries at most: default 50, at most [MaxPage].
	Limit int
}

// RevocationLog returns entries of the revocation log, newest first: the
// audit trail of who revoked what (see [WithActor]), when and why. The
// archiver deletes entries whose Until has passed, so the trail reaches
// back Options.MaxLifetime and a few minutes, not further.
func (r *Registry) RevocationLog(ctx context.Context, q LogQuery) ([]Revocation, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, MaxPage)
	db := r.db.WithContext(ctx).Model(&Revocation{})
	if q.Before > 0 {
		db = db.Where("id < ?", q.Before)
	}
	if q.Subject != "" {
		db = db.Where("subject = ?", q.Subject)
	}
	list := []Revocation{}
	if err := db.Order("id DESC").Limit(q.Limit).Find(&list).Error; err != nil {
		return nil, fmt.Errorf("registry: revocation log: %w", err)
	}
	return list, nil
}
