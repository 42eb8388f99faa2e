package device

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/registry"
)

// ErrNotFound: no interlocutor or network has that ID.
var ErrNotFound = errors.New("device: not found")

// pageBounds checks a page's limit and offset: limit in 1..registry.MaxPage
// (cut to it), offset not negative.
func pageBounds(limit, offset int) (int, error) {
	if limit <= 0 || offset < 0 {
		return 0, fmt.Errorf("device: page: limit %d, offset %d", limit, offset)
	}
	return min(limit, registry.MaxPage), nil
}

// Interlocutors returns up to limit (at most registry.MaxPage) recorded
// interlocutors, the newest first, skipping the first offset, and how many
// there are. A limit ≤ 0 or a negative offset is an error.
func (d *Registry) Interlocutors(ctx context.Context, limit, offset int) ([]Interlocutor, int64, error) {
	return page[Interlocutor](ctx, d.db, limit, offset)
}

// Networks returns up to limit (at most registry.MaxPage) recorded
// networks, the newest first, skipping the first offset, and how many
// there are. A limit ≤ 0 or a negative offset is an error.
func (d *Registry) Networks(ctx context.Context, limit, offset int) ([]InterlocutorNetwork, int64, error) {
	return page[InterlocutorNetwork](ctx, d.db, limit, offset)
}

func page[T any](ctx context.Context, db *gorm.DB, limit, offset int) ([]T, int64, error) {
	limit, err := pageBounds(limit, offset)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := db.WithContext(ctx).Model(new(T)).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("device: list: %w", err)
	}
	list := []T{}
	if int64(offset) >= total {
		return list, total, nil // past the end: no scan of the rows to skip
	}
	if err := db.WithContext(ctx).Order("id DESC").Limit(limit).Offset(offset).Find(&list).Error; err != nil {
		return nil, 0, fmt.Errorf("device: list: %w", err)
	}
	return list, total, nil
}

// Interlocutor returns the interlocutor with this ID, or ErrNotFound.
func (d *Registry) Interlocutor(ctx context.Context, id int64) (*Interlocutor, error) {
	return take[Interlocutor](ctx, d.db, id)
}

// Network returns the network with this ID, or ErrNotFound.
func (d *Registry) Network(ctx context.Context, id int64) (*InterlocutorNetwork, error) {
	return take[InterlocutorNetwork](ctx, d.db, id)
}

func take[T any](ctx context.Context, db *gorm.DB, id int64) (*T, error) {
	var row T
	err := db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("device: find: %w", err)
	}
	return &row, nil
}

// DeviceSession is a session that used an interlocutor or a network: its
// user, and when its first and its last token connected to that device
// were recorded.
type DeviceSession struct {
	SessionID string
	UserID    string
	FirstSeen time.Time
	LastSeen  time.Time
	// Tokens is how many of the session's tokens the device obtained.
	Tokens int64
}

// InterlocutorSessions returns up to limit (at most registry.MaxPage) of
// the sessions that used the interlocutor, the most recently seen first,
// skipping the first offset, and how many there are.
func (d *Registry) InterlocutorSessions(ctx context.Context, id int64, limit, offset int) ([]DeviceSession, int64, error) {
	return d.deviceSessions(ctx, "interlocutor_id", id, limit, offset)
}

// NetworkSessions returns up to limit (at most registry.MaxPage) of the
// sessions that came from the network, the most recently seen first,
// skipping the first offset, and how many there are.
func (d *Registry) NetworkSessions(ctx context.Context, id int64, limit, offset int) ([]DeviceSession, int64, error) {
	return d.deviceSessions(ctx, "network_id", id, limit, offset)
}

// deviceSpanQuery returns, for each of the given sessions, the first and
// the last connection to the device (column is a constant), and how many.
// It selects rows rather than MIN and MAX so that SQLite reads the time
// back as a time.
const deviceSpanQuery = `
SELECT session_id, created_at, tokens FROM (
	SELECT t.session_id AS session_id, c.created_at AS created_at,
		ROW_NUMBER() OVER (PARTITION BY t.session_id ORDER BY c.id) AS first_rank,
		ROW_NUMBER() OVER (PARTITION BY t.session_id ORDER BY c.id DESC) AS last_rank,
		COUNT(*) OVER (PARTITION BY t.session_id) AS tokens
	FROM ginjwt_token_interlocutors c JOIN ginjwt_tokens t ON t.id = c.token_id
	WHERE c.%s = ? AND t.session_id IN ?
) spans WHERE first_rank = 1 OR last_rank = 1`

func (d *Registry) deviceSessions(ctx context.Context, column string, id int64, limit, offset int) ([]DeviceSession, int64, error) {
	limit, err := pageBounds(limit, offset)
	if err != nil {
		return nil, 0, err
	}
	db := d.db.WithContext(ctx)
	used := func() *gorm.DB {
		return db.Table("ginjwt_token_interlocutors").
			Joins("JOIN ginjwt_tokens ON ginjwt_tokens.id = ginjwt_token_interlocutors.token_id").
			Where("ginjwt_token_interlocutors."+column+" = ?", id)
	}
	var total int64
	if err := used().Distinct("ginjwt_tokens.session_id").Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("device: sessions: %w", err)
	}
	var sids []string
	err = used().Select("ginjwt_tokens.session_id").Group("ginjwt_tokens.session_id").
		Order("MAX(ginjwt_token_interlocutors.id) DESC").Limit(limit).Offset(offset).Pluck("ginjwt_tokens.session_id", &sids).Error
	if err != nil {
		return nil, 0, fmt.Errorf("device: sessions: %w", err)
	}
	out := make([]DeviceSession, 0, len(sids))
	if len(sids) == 0 {
		return out, total, nil
	}
	var spans []struct {
		SessionID string
		CreatedAt time.Time
		Tokens    int64
	}
	if err := db.Raw(fmt.Sprintf(deviceSpanQuery, column), id, sids).Scan(&spans).Error; err != nil {
		return nil, 0, fmt.Errorf("device: sessions: %w", err)
	}
	var owners []struct{ SessionID, UserID string }
	err = db.Table("ginjwt_tokens").Select("DISTINCT ginjwt_tokens.session_id AS session_id, ginjwt_token_users.user_id AS user_id").
		Joins("JOIN ginjwt_token_users ON ginjwt_token_users.token_id = ginjwt_tokens.id").
		Where("ginjwt_tokens.session_id IN ? AND ginjwt_tokens.id IN (SELECT MIN(id) FROM ginjwt_tokens WHERE session_id IN ? GROUP BY session_id)", sids, sids).
		Scan(&owners).Error
	if err != nil {
		return nil, 0, fmt.Errorf("device: sessions: %w", err)
	}
	byID := make(map[string]*DeviceSession, len(sids))
	for _, sid := range sids {
		out = append(out, DeviceSession{SessionID: sid})
	}
	for i := range out {
		byID[out[i].SessionID] = &out[i]
	}
	for _, s := range spans {
		ds := byID[s.SessionID]
		if ds == nil {
			continue
		}
		ds.Tokens = s.Tokens
		if ds.FirstSeen.IsZero() || s.CreatedAt.Before(ds.FirstSeen) {
			ds.FirstSeen = s.CreatedAt
		}
		if s.CreatedAt.After(ds.LastSeen) {
			ds.LastSeen = s.CreatedAt
		}
	}
	for _, o := range owners {
		if ds := byID[o.SessionID]; ds != nil {
			ds.UserID = o.UserID
		}
	}
	return out, total, nil
}
