package device

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// Options configure a [Registry]. A zero field means its default.
type Options struct {
	// OnNewDevice is told when a user logs in from an interlocutor (a
	// distinct User-Agent) the user has not logged in from before: the
	// place for "new sign-in" e-mails. It runs in the pipeline, after the
	// tokens are connected; a slow one slows registration.
	OnNewDevice func(ctx context.Context, d NewDevice)
	// Clock tells the time. Default time.Now.
	Clock func() time.Time
}

// NewDevice describes a login from an interlocutor new for its user.
type NewDevice struct {
	UserID       string
	SessionID    string
	Interlocutor Interlocutor
	Network      *InterlocutorNetwork
	Time         time.Time
}

// Registry records the interlocutor and network of every token, next to
// the token registry and in its database.
type Registry struct {
	db     *gorm.DB
	tokens *registry.Registry
	opts   Options
	ids    idCache
}

// New returns the device registry of tokens, in the token registry's
// database. It registers an archive hook, so archived tokens take their
// device connections with them, and the interlocutors and networks that no
// token uses any more go too.
func New(tokens *registry.Registry, opts Options) *Registry {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	d := &Registry{db: tokens.DB(), tokens: tokens, opts: opts, ids: newIDCache()}
	tokens.OnArchive(d.archive)
	return d
}

func (d *Registry) now() time.Time { return d.opts.Clock().UTC().Truncate(time.Microsecond) }

// ConnectInterlocutor is the pipeline step that records the client and
// network of the event — from the User-Agent and client IP the request had
// when the tokens were issued — and connects every token of the event to
// them. On a login (pipeline.Obtained) from an interlocutor its user has
// not used before, it calls Options.OnNewDevice. Tokens must be recorded
// first (registry.RegisterPairs runs before it in the default pipeline).
// It writes in the registration transaction of ctx (registry's InTx), or in
// one of its own, so a failure leaves nothing half-written. Its method
// value is a [pipeline.Step]; it is idempotent.
func (d *Registry) ConnectInterlocutor(ctx context.Context, e *pipeline.Event) error {
	db := d.tokens.Conn(ctx)
	if _, inTx := db.Statement.ConnPool.(gorm.TxCommitter); !inTx {
		return d.tokens.InTx(ctx, func(ctx context.Context) error { return d.ConnectInterlocutor(ctx, e) })
	}
	i := &Interlocutor{Agent: Parse(e.UserAgent)}
	var n *InterlocutorNetwork
	if e.ClientIP != "" {
		n = NewNetwork(e.ClientIP, e.ForwardedFor)
	}
	var jtis []string
	for _, t := range e.Tokens() {
		jtis = append(jtis, t.ID)
	}
	var tokens []registry.Token
	if err := db.Model(&registry.Token{}).Select("id", "jti", "session_id").Where("jti IN ?", jtis).Find(&tokens).Error; err != nil {
		return fmt.Errorf("device: look up tokens: %w", err)
	}
	if len(tokens) == 0 {
		return nil
	}
	if err := d.record(db, i, n); err != nil {
		return err
	}
	isNew := false
	if e.Kind == pipeline.Obtained && e.UserID != "" && d.opts.OnNewDevice != nil {
		used, err := d.usedBefore(db, e.UserID, i.ID)
		if err != nil {
			return err
		}
		isNew = !used
	}
	if _, err := d.connect(db, i, n, tokens, d.now()); err != nil {
		return err
	}
	if isNew {
		nd := NewDevice{UserID: e.UserID, SessionID: tokens[0].SessionID, Interlocutor: *i, Network: n, Time: e.Time}
		registry.AfterCommit(ctx, func() { d.opts.OnNewDevice(ctx, nd) })
	}
	registry.AfterCommit(ctx, func() { d.ids.remember(i, n) })
	return nil
}

// Connect records interlocutor and network (when not recorded yet: an ID
// of 0) and connects tokens to them, as the pipeline step does, for tokens
// an application registered by hand. network may be nil.
func (d *Registry) Connect(ctx context.Context, interlocutor *Interlocutor, tokens []registry.Token, network *InterlocutorNetwork) ([]TokenInterlocutorConnection, error) {
	if interlocutor == nil {
		return nil, errors.New("device: Connect needs an interlocutor")
	}
	db := d.db.WithContext(ctx)
	if err := d.record(db, interlocutor, network); err != nil {
		return nil, err
	}
	return d.connect(db, interlocutor, network, tokens, d.now())
}

// record fills the IDs of i and n, inserting them when their hash is new.
// IDs known from earlier (committed) registrations come from memory; the
// archiver may have deleted such a row since, which connect notices.
func (d *Registry) record(db *gorm.DB, i *Interlocutor, n *InterlocutorNetwork) error {
	now := d.now()
	d.ids.recall(i, n)
	if i.ID == 0 {
		if i.Hash == "" {
			i.Agent = Parse(i.Raw)
		}
		i.CreatedAt = now
		if err := upsertByHash(db, i, i.Hash); err != nil {
			return fmt.Errorf("device: record interlocutor: %w", err)
		}
	}
	if n != nil && n.ID == 0 {
		if n.Hash == "" {
			*n = *NewNetwork(n.IP, nil)
		}
		n.CreatedAt = now
		if err := upsertByHash(db, n, n.Hash); err != nil {
			return fmt.Errorf("device: record network: %w", err)
		}
	}
	return nil
}

// upsertByHash inserts row unless a row with its hash exists, and loads the
// stored row's ID either way.
func upsertByHash[T any](db *gorm.DB, row *T, hash string) error {
	res := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "hash"}}, DoNothing: true}).Create(row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected > 0 {
		return nil
	}
	return db.Where("hash = ?", hash).Take(row).Error
}

// usedBefore reports whether any token of the user is already connected to
// the interlocutor.
func (d *Registry) usedBefore(db *gorm.DB, userID string, interlocutorID int64) (bool, error) {
	var n int64
	err := db.Model(&TokenInterlocutorConnection{}).
		Joins("JOIN ginjwt_token_users ON ginjwt_token_users.token_id = ginjwt_token_interlocutors.token_id").
		Where("ginjwt_token_users.user_id = ? AND ginjwt_token_interlocutors.interlocutor_id = ?", userID, interlocutorID).
		Limit(1).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("device: new device: %w", err)
	}
	return n > 0, nil
}

// connect connects tokens to i and n (n may be nil), which record filled.
// It connects only to rows that still exist, and on PostgreSQL locks them
// (FOR KEY SHARE) until the transaction ends, so the archiver cannot delete
// them under a login: an interlocutor or network the archiver deleted
// since record found it is recorded again, once.
func (d *Registry) connect(db *gorm.DB, i *Interlocutor, n *InterlocutorNetwork, tokens []registry.Token, now time.Time) ([]TokenInterlocutorConnection, error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(tokens))
	for k, t := range tokens {
		ids[k] = t.ID
	}
	for attempt := 0; ; attempt++ {
		made, err := insertConnections(db, i, n, ids, now)
		if err != nil {
			return nil, fmt.Errorf("device: connect: %w", err)
		}
		if len(made) < len(ids) {
			// Fewer rows than tokens: tokens already connected (a retried
			// registration), or a row the archiver deleted.
			gone, err := missing(db, i, n)
			if err != nil {
				return nil, fmt.Errorf("device: connect: %w", err)
			}
			if gone {
				if attempt > 0 {
					return nil, errors.New("device: connect: the interlocutor or network was deleted twice under a registration")
				}
				d.ids.forget()
				i.ID = 0
				if n != nil {
					n.ID = 0
				}
				if err := d.record(db, i, n); err != nil {
					return nil, err
				}
				continue
			}
		}
		rows := make([]TokenInterlocutorConnection, 0, len(tokens))
		for _, t := range tokens {
			c := TokenInterlocutorConnection{ID: made[t.ID], TokenID: t.ID, InterlocutorID: i.ID, CreatedAt: now}
			if n != nil {
				c.NetworkID = &n.ID
			}
			rows = append(rows, c)
		}
		return rows, nil
	}
}

// insertConnections inserts the connections of the tokens ids to i and n
// that do not exist yet, selecting i and n from their tables (locked FOR
// KEY SHARE on PostgreSQL): none when either is gone. It returns the IDs of
// the rows it inserted by token ID.
func insertConnections(db *gorm.DB, i *Interlocutor, n *InterlocutorNetwork, ids []int64, now time.Time) (map[int64]int64, error) {
	from, where, lock := "ginjwt_tokens t, ginjwt_interlocutors i", "t.id IN ? AND i.id = ?", "i"
	network := "NULL"
	args := []any{now, ids, i.ID}
	if n != nil {
		from += ", ginjwt_interlocutor_networks n"
		where += " AND n.id = ?"
		lock += ", n"
		network = "n.id"
		args = append(args, n.ID)
	}
	locking := ""
	if db.Dialector.Name() == "postgres" {
		locking = " FOR KEY SHARE OF " + lock
	}
	var made []struct{ ID, TokenID int64 }
	err := db.Raw(`INSERT INTO ginjwt_token_interlocutors (created_at, token_id, interlocutor_id, network_id)
SELECT ?, t.id, i.id, `+network+` FROM `+from+` WHERE `+where+locking+`
ON CONFLICT (token_id, interlocutor_id) DO NOTHING
RETURNING id, token_id`, args...).Scan(&made).Error
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(made))
	for _, m := range made {
		out[m.TokenID] = m.ID
	}
	return out, nil
}

// missing reports whether the row of i or of n is gone.
func missing(db *gorm.DB, i *Interlocutor, n *InterlocutorNetwork) (bool, error) {
	var found int64
	if err := db.Model(&Interlocutor{}).Where("id = ?", i.ID).Count(&found).Error; err != nil || found == 0 {
		return found == 0, err
	}
	if n == nil {
		return false, nil
	}
	if err := db.Model(&InterlocutorNetwork{}).Where("id = ?", n.ID).Count(&found).Error; err != nil {
		return false, err
	}
	return found == 0, nil
}

// SessionDevice is what the sessions list shows of a session's device: the
// interlocutor and network of its most recent token.
type SessionDevice struct {
	Label        string        `json:"label"`
	Interlocutor *Interlocutor `json:"interlocutor"`
	IP           string        `json:"ip"`
}

// SessionDevices returns the device of each session among sids that the
// registry knows, keyed by session ID.
func (d *Registry) SessionDevices(ctx context.Context, sids []string) (map[string]SessionDevice, error) {
	out := map[string]SessionDevice{}
	if len(sids) == 0 {
		return out, nil
	}
	type row struct {
		SessionID      string
		InterlocutorID int64
		NetworkID      *int64
	}
	// Only each session's latest connection: a session with thousands of
	// tokens is one row here, not thousands.
	var rows []row
	for start := 0; start < len(sids); start += sessionsChunk {
		part := sids[start:min(start+sessionsChunk, len(sids))]
		values := strings.TrimSuffix(strings.Repeat("(?),", len(part)), ",")
		args := make([]any, len(part))
		for i, sid := range part {
			args[i] = sid
		}
		newest := "MAX(t.id)"
		if d.db.Dialector.Name() == "postgres" {
			newest = "MAX(t.id + 0)"
		}
		var got []row
		if err := d.db.WithContext(ctx).Raw(fmt.Sprintf(latestConnectionQuery, values, newest), args...).Scan(&got).Error; err != nil {
			return nil, fmt.Errorf("device: session devices: %w", err)
		}
		rows = append(rows, got...)
	}
	// A session whose newest token was recorded without a device (a
	// pipeline without the device step for it): its latest connection.
	if len(rows) < len(sids) {
		found := make(map[string]bool, len(rows))
		for _, r := range rows {
			found[r.SessionID] = true
		}
		var missing []string
		for _, sid := range sids {
			if !found[sid] {
				missing = append(missing, sid)
			}
		}
		for start := 0; start < len(missing); start += sessionsChunk {
			var got []row
			part := missing[start:min(start+sessionsChunk, len(missing))]
			if err := d.db.WithContext(ctx).Raw(anyConnectionQuery, part).Scan(&got).Error; err != nil {
				return nil, fmt.Errorf("device: session devices: %w", err)
			}
			rows = append(rows, got...)
		}
	}
	latest := map[string]row{}
	var iIDs, nIDs []int64
	for _, r := range rows {
		latest[r.SessionID] = r
	}
	for _, r := range latest {
		iIDs = append(iIDs, r.InterlocutorID)
		if r.NetworkID != nil {
			nIDs = append(nIDs, *r.NetworkID)
		}
	}
	var interlocutors []Interlocutor
	var networks []InterlocutorNetwork
	if err := d.db.WithContext(ctx).Where("id IN ?", iIDs).Find(&interlocutors).Error; err != nil {
		return nil, fmt.Errorf("device: session devices: %w", err)
	}
	if len(nIDs) > 0 {
		if err := d.db.WithContext(ctx).Where("id IN ?", nIDs).Find(&networks).Error; err != nil {
			return nil, fmt.Errorf("device: session devices: %w", err)
		}
	}
	byI := map[int64]*Interlocutor{}
	for k := range interlocutors {
		byI[interlocutors[k].ID] = &interlocutors[k]
	}
	byN := map[int64]string{}
	for _, n := range networks {
		byN[n.ID] = n.IP
	}
	for sid, r := range latest {
		i := byI[r.InterlocutorID]
		if i == nil {
			continue
		}
		sd := SessionDevice{Label: i.Label(), Interlocutor: i}
		if r.NetworkID != nil {
			sd.IP = byN[*r.NetworkID]
		}
		out[sid] = sd
	}
	return out, nil
}

// latestConnectionQuery returns, for each session among those listed in
// the VALUES (the first %s: one "(?)" per session), the interlocutor and
// network of its newest token's connection: one index probe per session,
// however many tokens it has. VALUES' column is column1 on both engines.
// The second %s is the newest token's ID: MAX(t.id) on SQLite, whose index
// on session_id ends with the row ID; MAX(t.id + 0) on PostgreSQL, whose
// planner would otherwise walk the primary key backwards looking for the
// session.
const latestConnectionQuery = `
SELECT s.column1 AS session_id, c.interlocutor_id AS interlocutor_id, c.network_id AS network_id
FROM (VALUES %s) AS s
JOIN ginjwt_token_interlocutors c ON c.token_id = (
	SELECT %s FROM ginjwt_tokens t WHERE t.session_id = s.column1)
ORDER BY c.id`

// anyConnectionQuery returns, for sessions whose newest token has no
// connection, the interlocutor and network of their latest connection.
const anyConnectionQuery = `
SELECT session_id, interlocutor_id, network_id FROM (
	SELECT t.session_id AS session_id, c.interlocutor_id AS interlocutor_id, c.network_id AS network_id,
		ROW_NUMBER() OVER (PARTITION BY t.session_id ORDER BY c.id DESC) AS latest
	FROM ginjwt_token_interlocutors c JOIN ginjwt_tokens t ON t.id = c.token_id
	WHERE t.session_id IN ?
) connections WHERE latest = 1`

// sessionsChunk bounds the sessions of one latestConnectionQuery.
const sessionsChunk = 500

// idCache remembers the IDs of interlocutors and networks by hash: a
// handful of rows serve most logins. The archiver deletes rows no token
// uses any more, so an ID remembered may be gone: connect notices and
// records the row again. It is bounded, and emptied when full.
type idCache struct {
	mu            sync.Mutex
	interlocutors map[string]int64
	networks      map[string]int64
}

// idCacheSize bounds each map of the cache.
const idCacheSize = 10_000

func newIDCache() idCache {
	return idCache{interlocutors: map[string]int64{}, networks: map[string]int64{}}
}

func (c *idCache) recall(i *Interlocutor, n *InterlocutorNetwork) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i.ID == 0 && i.Hash != "" {
		i.ID = c.interlocutors[i.Hash]
	}
	if n != nil && n.ID == 0 && n.Hash != "" {
		n.ID = c.networks[n.Hash]
	}
}

// forget empties the cache.
func (c *idCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interlocutors = map[string]int64{}
	c.networks = map[string]int64{}
}

func (c *idCache) remember(i *Interlocutor, n *InterlocutorNetwork) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.interlocutors) >= idCacheSize {
		c.interlocutors = map[string]int64{}
	}
	if len(c.networks) >= idCacheSize {
		c.networks = map[string]int64{}
	}
	c.interlocutors[i.Hash] = i.ID
	if n != nil {
		c.networks[n.Hash] = n.ID
	}
}
