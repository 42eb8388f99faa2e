package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/pipeline"
)

// Options configure a [Registry]. A zero field means its default.
type Options struct {
	// MaxLifetime is the longest any token lives (the refresh token
	// lifetime, plus leeway). A session or user revocation matters for that
	// long and no longer. Required.
	MaxLifetime time.Duration
	// Leeway is the clock skew the verifier tolerates on exp: a revoked
	// token stays in memory until exp plus Leeway. Default 0.
	Leeway time.Duration
	// Resync is how often the in-memory view catches up with revocations
	// written by other processes. Default 5 s. On PostgreSQL, LISTEN/NOTIFY
	// brings other instances' revocations at once; the resync also catches
	// writers that do not notify.
	Resync time.Duration
	// ActivityEvery is how often last-used times are written: at most one
	// write per session per interval. Default 1 minute.
	ActivityEvery time.Duration
	// ArchiveEvery, when set, runs [Registry.Archive] that often in the
	// background, deleting tokens that expired more than ArchiveAfter ago.
	ArchiveEvery time.Duration
	// ArchiveAfter is how long expired tokens are kept for inspection before
	// the background archiver deletes them. Default 240 hours.
	ArchiveAfter time.Duration
	// MaxRevocations bounds the revocations held in memory (revoked tokens,
	// revoked sessions and users' cut-offs together). Past it, the oldest
	// tenth of the bound is forgotten — never silently: a token issued
	// before the latest forgotten revocation (plus 5 minutes of clock
	// margin) is one memory no longer vouches for, and
	// [Registry.RevokedContext] asks the database about it (the revocation
	// log, one indexed query), while [Registry.RevokedBy] refuses it.
	// Tokens issued after that are answered from memory as before. 0 means
	// the default, 1,000,000 (about 70 MB); negative is an error.
	MaxRevocations int
	// Clock tells the time. Default time.Now.
	Clock func() time.Time
	// Logger receives the registry's logs. Default slog.Default().
	Logger *slog.Logger
}

// Registry remembers every token, revokes any of them, and tells
// authentication — from memory — whether a token is revoked.
//
// Revocations are written to the revocation log in the same transaction as
// the tokens they revoke; each instance keeps a projection of the live log
// entries in memory, applies its own revocations at once, and catches up
// with other instances' through LISTEN/NOTIFY (PostgreSQL) and a periodic
// resync. A Registry is safe for concurrent use.
type Registry struct {
	db       *gorm.DB
	opts     Options
	view     *view
	postgres bool
	log      *slog.Logger

	kick     chan struct{} // asks the sync loop to read the log now
	activity *activity

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    sync.WaitGroup

	archiveHooks []ArchiveHook
}

// ArchiveHook deletes rows of another table that refer to tokens about to be
// archived, in the archiver's transaction.
type ArchiveHook func(tx *gorm.DB, tokenIDs []int64) error

// New returns a Registry on db. Call [Registry.Start] before serving
// requests and [Registry.Close] when done.
func New(db *gorm.DB, opts Options) (*Registry, error) {
	if opts.MaxLifetime <= 0 {
		return nil, errors.New("registry: Options.MaxLifetime is required")
	}
	if opts.Resync < 0 || opts.ArchiveEvery < 0 || opts.ArchiveAfter < 0 || opts.ActivityEvery < 0 || opts.Leeway < 0 {
		return nil, errors.New("registry: Options durations must be positive")
	}
	if opts.MaxRevocations < 0 {
		return nil, errors.New("registry: Options.MaxRevocations must be positive")
	}
	if opts.MaxRevocations == 0 {
		opts.MaxRevocations = DefaultMaxRevocations
	}
	if opts.Resync == 0 {
		opts.Resync = 5 * time.Second
	}
	if opts.ArchiveAfter == 0 {
		opts.ArchiveAfter = 240 * time.Hour
	}
	if opts.ActivityEvery == 0 {
		opts.ActivityEvery = time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	v := newView()
	v.max = opts.MaxRevocations
	return &Registry{
		db:       db,
		opts:     opts,
		view:     v,
		postgres: db.Dialector.Name() == "postgres",
		log:      opts.Logger,
		kick:     make(chan struct{}, 1),
		activity: newActivity(opts.ActivityEvery),
	}, nil
}

// DB returns the database the registry writes to.
func (r *Registry) DB() *gorm.DB { return r.db }

// OnArchive registers a hook the archiver runs before deleting tokens, for
// tables of other packages that refer to them (the device registry's).
func (r *Registry) OnArchive(h ArchiveHook) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.archiveHooks = append(r.archiveHooks, h)
}

func (r *Registry) now() time.Time { return dbTime(r.opts.Clock()) }

// Now is the time by the registry's clock (Options.Clock), as it writes
// times: what "active" and "expired" are measured against.
func (r *Registry) Now() time.Time { return r.now() }

// Start loads the live revocation log into memory and starts the background
// work: the resync loop, LISTEN on PostgreSQL, and the archiver when
// Options.ArchiveEvery is set. It fails when the log cannot be read.
// Calling it twice does nothing.
func (r *Registry) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	if err := r.load(ctx); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	r.started = true
	r.join()
	r.goLoop(bg, r.syncLoop)
	r.goLoop(bg, r.activityLoop)
	if r.postgres {
		r.goLoop(bg, r.listen)
	}
	if r.opts.ArchiveEvery > 0 {
		r.goLoop(bg, r.archiveLoop)
	}
	return nil
}

func (r *Registry) goLoop(ctx context.Context, loop func(context.Context)) {
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		loop(ctx)
	}()
}

// Close stops the background work and waits for it, or for ctx, then
// writes the last-used times still pending. It does not close the database.
func (r *Registry) Close(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	r.started, r.cancel = false, nil
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	r.leave()
	cancel()
	stopped := make(chan struct{})
	go func() { r.done.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		return fmt.Errorf("registry: close: %w", ctx.Err())
	}
	_, err := r.FlushActivity(ctx)
	return err
}

// startLookback is how far below the highest log ID the first catch-up
// reads again, for transactions that took their ID before start and commit
// after it.
const startLookback = 100

// load reads the live log entries into the view.
func (r *Registry) load(ctx context.Context) error {
	now := r.now()
	var maxID *int64
	if err := r.db.WithContext(ctx).Model(&Revocation{}).Select("MAX(id)").Scan(&maxID).Error; err != nil {
		return fmt.Errorf("registry: read the revocation log: %w", err)
	}
	var rows []Revocation
	if err := r.db.WithContext(ctx).Where("until > ?", now).Order("id").Find(&rows).Error; err != nil {
		return fmt.Errorf("registry: read the revocation log: %w", err)
	}
	r.view.apply(rows, now)
	if maxID != nil {
		r.view.mu.Lock()
		r.view.lastID = max(0, *maxID-startLookback)
		r.view.mu.Unlock()
	}
	return nil
}

// Sync reads the log entries written since the last read (by this process
// or any other) into the view, and forgets entries that no longer matter.
// The background loop calls it; tests and tools may call it directly.
func (r *Registry) Sync(ctx context.Context) error {
	now := r.now()
	for {
		var rows []Revocation
		err := r.db.WithContext(ctx).Where("id > ?", r.view.last()).Order("id").Limit(1000).Find(&rows).Error
		if err != nil {
			return fmt.Errorf("registry: sync: %w", err)
		}
		r.view.apply(rows, now)
		r.view.advance(rows, now)
		if len(rows) < 1000 {
			break
		}
	}
	if gaps := r.view.pendingGaps(now); len(gaps) > 0 {
		var rows []Revocation
		if err := r.db.WithContext(ctx).Where("id IN ?", gaps).Find(&rows).Error; err != nil {
			return fmt.Errorf("registry: sync: %w", err)
		}
		r.view.apply(rows, now)
		r.view.advance(rows, now)
	}
	r.view.prune(now)
	return nil
}

func (r *Registry) syncLoop(ctx context.Context) {
	every(ctx, r.opts.Resync, r.kick, func(ctx context.Context) {
		if err := r.Sync(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "ginjwt registry: resync failed", "error", err)
		}
	})
}

// every calls fn every interval, and whenever kick delivers (a nil kick
// never does), until ctx ends.
func every(ctx context.Context, interval time.Duration, kick <-chan struct{}, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
		fn(ctx)
	}
}

// poke asks the sync loop to read the log now.
func (r *Registry) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// DefaultMaxRevocations is the default of Options.MaxRevocations.
const DefaultMaxRevocations = 1_000_000

// Revoked reports whether token t is revoked: the token itself (by its ID,
// the jti), its session, or its user (a generation below the user's
// cut-off). It reads memory only, and t is not retained.
func (r *Registry) Revoked(t *pipeline.Token) bool {
	_, revoked := r.view.revoked(t)
	return revoked
}

// RevokedBy is [Registry.Revoked] that also says which kind of revocation
// applies. A token that memory can no longer vouch for, because
// revocations that could apply to it were forgotten past
// Options.MaxRevocations, is refused as [KindForgotten]: use
// [Registry.RevokedContext] to ask the database about it.
func (r *Registry) RevokedBy(t *pipeline.Token) (RevocationKind, bool) {
	return r.view.revoked(t)
}

// RevokedContext is [Registry.RevokedBy] that, for a token memory can no
// longer vouch for (see Options.MaxRevocations), asks the database: the
// live entries of the revocation log that name the token, its session or
// its user — exactly what memory would hold had it kept everything. It
// fails, and the caller must refuse the token, when the database cannot
// answer. For the other tokens it reads memory only.
func (r *Registry) RevokedContext(ctx context.Context, t *pipeline.Token) (RevocationKind, bool, error) {
	kind, revoked := r.view.revoked(t)
	if kind != KindForgotten {
		return kind, revoked, nil
	}
	var kinds []RevocationKind
	cover := r.db.Where("kind = ? AND subject = ?", KindToken, t.ID).
		Or("kind = ? AND subject = ?", KindSession, t.SessionID).
		Or("kind = ? AND subject = ? AND (generation > ? OR (generation = 0 AND at > ?))", KindUser, t.UserID, t.Generation, dbTime(t.IssuedAt))
	err := r.db.WithContext(ctx).Model(&Revocation{}).Where("until > ?", r.now()).Where(cover).Limit(1).Pluck("kind", &kinds).Error
	if err != nil {
		return "", false, fmt.Errorf("registry: check a token against the revocation log: %w", err)
	}
	if len(kinds) > 0 {
		return kinds[0], true, nil
	}
	return "", false, nil
}

// Forgotten is how many revocations this instance has forgotten past
// Options.MaxRevocations, and the time before which (plus 5 minutes of
// clock margin) a token's revocation is asked of the database: zero when
// none was.
func (r *Registry) Forgotten() (n int64, issuedBefore time.Time) {
	r.view.mu.RLock()
	defer r.view.mu.RUnlock()
	if r.view.forgotAt == 0 {
		return 0, time.Time{}
	}
	return r.view.forgotten, time.UnixMicro(r.view.forgotAt + clockMargin.Microseconds()).UTC()
}

// InMemory is how many revocations this instance holds in memory: revoked
// tokens and sessions not yet expired, and users' cut-offs.
func (r *Registry) InMemory() int { return r.view.size() }

// SessionRevoked reports, from memory, whether the whole session sid is
// revoked.
func (r *Registry) SessionRevoked(sid string) bool { return r.view.sessionRevoked(sid) }
