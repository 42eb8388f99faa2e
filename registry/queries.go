package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// ErrNotFound: no token has that ID or jti.
var ErrNotFound = errors.New("registry: token not found")

// Active is a GORM scope for tokens neither revoked nor expired at now:
//
//	db.Scopes(registry.Active(time.Now())).Find(&tokens)
func Active(now time.Time) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("ginjwt_tokens.revoked_at IS NULL AND ginjwt_tokens.expires_at > ?", dbTime(now))
	}
}

// Expired is a GORM scope for tokens that expired or were revoked by now.
func Expired(now time.Time) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("ginjwt_tokens.revoked_at IS NOT NULL OR ginjwt_tokens.expires_at <= ?", dbTime(now))
	}
}

// OfUser is a GORM scope for the tokens issued to a user.
func OfUser(userID string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("ginjwt_tokens.id IN (?)",
			db.Session(&gorm.Session{NewDB: true}).Model(&TokenUserConnection{}).Select("token_id").Where("user_id = ?", userID))
	}
}

// InSession is a GORM scope for the tokens of one session.
func InSession(sessionID string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("ginjwt_tokens.session_id = ?", sessionID)
	}
}

// Tokens starts a query of the registry's tokens, to combine with the
// scopes above:
//
//	var mine []registry.Token
//	err := reg.Tokens(ctx).Scopes(registry.OfUser(id), registry.Active(now)).Find(&mine).Error
func (r *Registry) Tokens(ctx context.Context) *gorm.DB {
	return r.db.WithContext(ctx).Model(&Token{})
}

// Find returns the token with this registry ID, or ErrNotFound.
func (r *Registry) Find(ctx context.Context, id int64) (*Token, error) {
	return r.findBy(ctx, "id = ?", id)
}

// FindByJTI returns the token with this jti, or ErrNotFound.
func (r *Registry) FindByJTI(ctx context.Context, jti string) (*Token, error) {
	return r.findBy(ctx, "jti = ?", jti)
}

func (r *Registry) findBy(ctx context.Context, where string, arg any) (*Token, error) {
	var t Token
	err := r.db.WithContext(ctx).Where(where, arg).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("registry: find token: %w", err)
	}
	return &t, nil
}

// Owner returns the ID of the user a token was issued to, or ErrNotFound.
func (r *Registry) Owner(ctx context.Context, tokenID int64) (string, error) {
	var c TokenUserConnection
	err := r.db.WithContext(ctx).Where("token_id = ?", tokenID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("registry: token owner: %w", err)
	}
	return c.UserID, nil
}

// treeQuery collects, in one recursive statement, the whole trees the given
// tokens belong to: up to each tree's root, then down to every descendant.
const treeQuery = `
WITH RECURSIVE up(id, parent_id) AS (
	SELECT id, parent_id FROM ginjwt_tokens WHERE id IN ?
	UNION ALL
	SELECT t.id, t.parent_id FROM ginjwt_tokens t JOIN up ON t.id = up.parent_id
), down(id) AS (
	SELECT DISTINCT id FROM up WHERE parent_id IS NULL
	UNION ALL
	SELECT t.id FROM ginjwt_tokens t JOIN down ON t.parent_id = down.id
)
SELECT DISTINCT id FROM down ORDER BY id`

// subtreeQuery collects the given tokens and all their descendants.
const subtreeQuery = `
WITH RECURSIVE down(id) AS (
	SELECT id FROM ginjwt_tokens WHERE id IN ?
	UNION ALL
	SELECT t.id FROM ginjwt_tokens t JOIN down ON t.parent_id = down.id
)
SELECT DISTINCT id FROM down ORDER BY id`

// CollectTree returns the IDs of every token in the trees of the given
// tokens — their roots and all the roots' descendants — in one recursive
// query.
func (r *Registry) CollectTree(ctx context.Context, ids ...int64) ([]int64, error) {
	return collect(r.db.WithContext(ctx), treeQuery, ids)
}

// CollectSubtree returns the given tokens' IDs and those of all their
// descendants, in one recursive query.
func (r *Registry) CollectSubtree(ctx context.Context, ids ...int64) ([]int64, error) {
	return collect(r.db.WithContext(ctx), subtreeQuery, ids)
}

func collect(db *gorm.DB, query string, ids []int64) ([]int64, error) {
	if len(ids) <= chunk {
		if len(ids) == 0 {
			return nil, nil
		}
		var out []int64
		if err := db.Raw(query, ids).Scan(&out).Error; err != nil {
			return nil, fmt.Errorf("registry: collect tree: %w", err)
		}
		return out, nil
	}
	// Both engines bound the parameters of a statement: one query per chunk.
	seen := map[int64]bool{}
	var out []int64
	for start := 0; start < len(ids); start += chunk {
		part, err := collect(db, query, ids[start:min(start+chunk, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, id := range part {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Session is one active session of a user: a tree of tokens whose refresh
// (or sliding) token is still valid.
type Session struct {
	// ID is the session ID: the sid claim of its tokens.
	ID string `json:"id"`
	// CreatedAt is when the session's first token was issued.
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is when the session last issued a token.
	LastUsedAt time.Time `json:"last_used_at"`
	// ExpiresAt is when its last valid refresh token expires.
	ExpiresAt time.Time `json:"expires_at"`
}

// Sessions returns the active sessions of a user, most recently used first.
// A session is active while one of its refresh (or sliding) tokens is
// neither expired nor revoked, the session is not revoked as a whole, and
// the user has not been cut off since it began.
func (r *Registry) Sessions(ctx context.Context, userID string) ([]Session, error) {
	now := r.now()
	gen, err := readGeneration(r.db.WithContext(ctx), userID, false)
	if err != nil {
		return nil, err
	}
	var live []Token
	// Tokens below the user's generation are cut off, whether or not the
	// cut-off could mark their rows (a refresh racing it records its tokens
	// after it).
	err = r.Tokens(ctx).Scopes(OfUser(userID), Active(now)).Where("ginjwt_tokens.type <> ? AND ginjwt_tokens.generation >= ?", "access", gen).
		Select("session_id", "expires_at").Find(&live).Error
	if err != nil {
		return nil, fmt.Errorf("registry: sessions: %w", err)
	}
	byID := map[string]*Session{}
	var sids []string
	for _, t := range live {
		// Revoked as a whole: rows recorded after the revocation are not
		// marked, but the view knows.
		if r.view.sessionRevoked(t.SessionID) {
			continue
		}
		s := byID[t.SessionID]
		if s == nil {
			s = &Session{ID: t.SessionID}
			byID[t.SessionID] = s
			sids = append(sids, t.SessionID)
		}
		s.ExpiresAt = later(s.ExpiresAt, t.ExpiresAt)
	}
	if err := r.describe(ctx, byID, sids); err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(byID))
	for _, s := range byID {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Session) int { return b.LastUsedAt.Compare(a.LastUsedAt) })
	return out, nil
}

// describe fills in when each session of byID (their IDs in sids) began
// and was last used.
func (r *Registry) describe(ctx context.Context, byID map[string]*Session, sids []string) error {
	// When each began and last issued a token, over all its tokens: its
	// first refresh token may have been rotated out, its last access token
	// may have expired.
	for start := 0; start < len(sids); start += chunk {
		part := sids[start:min(start+chunk, len(sids))]
		spans, err := r.sessionSpans(ctx, part)
		if err != nil {
			return err
		}
		for _, t := range spans {
			s := byID[t.SessionID]
			if s.CreatedAt.IsZero() || t.IssuedAt.Before(s.CreatedAt) {
				s.CreatedAt = t.IssuedAt
			}
			s.LastUsedAt = later(s.LastUsedAt, t.IssuedAt)
		}
		// Requests count as use too: written on the root token, or still
		// in memory.
		var roots []Token
		if err := r.db.WithContext(ctx).Select("jti", "last_used_at").Where("jti IN ? AND last_used_at IS NOT NULL", part).Find(&roots).Error; err != nil {
			return fmt.Errorf("registry: sessions: %w", err)
		}
		for _, t := range roots {
			byID[t.JTI].LastUsedAt = later(byID[t.JTI].LastUsedAt, *t.LastUsedAt)
		}
	}
	for sid, s := range byID {
		s.LastUsedAt = later(s.LastUsedAt, r.activity.lastUsed(sid))
	}
	return nil
}

// sessionSpans returns, for each of the sessions, its first and its last
// issued token's issued_at (one or two rows per session).
func (r *Registry) sessionSpans(ctx context.Context, sids []string) ([]Token, error) {
	var spans []Token
	if r.postgres {
		if err := r.db.WithContext(ctx).Raw(sessionSpanQuery, sids).Scan(&spans).Error; err != nil {
			return nil, fmt.Errorf("registry: sessions: %w", err)
		}
		return spans, nil
	}
	// SQLite: one pass each over the session index, no sort.
	for _, q := range []string{sqliteFirstQuery, sqliteLastQuery} {
		var part []Token
		if err := r.db.WithContext(ctx).Raw(q, sids).Scan(&part).Error; err != nil {
			return nil, fmt.Errorf("registry: sessions: %w", err)
		}
		spans = append(spans, part...)
	}
	return spans, nil
}

// sqliteFirstQuery and sqliteLastQuery are sessionSpanQuery on SQLite,
// five times faster on a session of 10,000 tokens: with exactly one MIN or
// MAX, SQLite takes the bare column issued_at from the row that holds it,
// and reads it back as a time (which the aggregate itself is not).
const (
	sqliteFirstQuery = `SELECT session_id, MIN(issued_at) AS span, issued_at FROM ginjwt_tokens WHERE session_id IN ? GROUP BY session_id`
	sqliteLastQuery  = `SELECT session_id, MAX(issued_at) AS span, issued_at FROM ginjwt_tokens WHERE session_id IN ? GROUP BY session_id`
)

// sessionSpanQuery returns, for each session, its first and its last
// issued token's issued_at. It selects rows rather than MIN and MAX so that
// the column reads back as a time.
const sessionSpanQuery = `
SELECT session_id, issued_at FROM (
	SELECT session_id, issued_at,
		ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY issued_at) AS first_rank,
		ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY issued_at DESC) AS last_rank
	FROM ginjwt_tokens WHERE session_id IN ?
) spans WHERE first_rank = 1 OR last_rank = 1`

// SessionOwner returns the ID of the user a session belongs to, or
// ErrNotFound when the registry knows no token of it.
func (r *Registry) SessionOwner(ctx context.Context, sid string) (string, error) {
	var userIDs []string
	err := r.db.WithContext(ctx).Model(&TokenUserConnection{}).
		Joins("JOIN ginjwt_tokens ON ginjwt_tokens.id = ginjwt_token_users.token_id").
		Where("ginjwt_tokens.session_id = ?", sid).Limit(1).Pluck("ginjwt_token_users.user_id", &userIDs).Error
	if err != nil {
		return "", fmt.Errorf("registry: session owner: %w", err)
	}
	if len(userIDs) == 0 {
		return "", ErrNotFound
	}
	return userIDs[0], nil
}
