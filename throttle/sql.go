package throttle

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Failure is one bucket's failed logins in one fixed window, a row of the
// SQL store.
type Failure struct {
	Bucket string `gorm:"column:bucket;size:64;primaryKey"`
	// WindowStart is the window's start, in milliseconds since the Unix
	// epoch.
	WindowStart int64 `gorm:"column:window_start;primaryKey;autoIncrement:false;index:idx_ginjwt_throttle_failures_start"`
	Count       int64 `gorm:"column:count;not null"`
}

// TableName is "ginjwt_throttle_failures".
func (Failure) TableName() string { return "ginjwt_throttle_failures" }

// Flight is one bucket of one attempt in flight, a row of the SQL store.
type Flight struct {
	AttemptID string `gorm:"column:attempt_id;size:64;primaryKey"`
	Bucket    string `gorm:"column:bucket;size:64;primaryKey;index:idx_ginjwt_throttle_flights_bucket"`
	// ExpiresAt is when the lease passes, in milliseconds since the Unix
	// epoch.
	ExpiresAt int64 `gorm:"column:expires_at;not null;index:idx_ginjwt_throttle_flights_expires"`
}

// TableName is "ginjwt_throttle_flights".
func (Flight) TableName() string { return "ginjwt_throttle_flights" }

// Migrate creates or updates the SQL store's tables. It is safe to run at
// every start; ginjwt.Migrate runs it.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if err := db.WithContext(ctx).AutoMigrate(&Failure{}, &Flight{}); err != nil {
		return fmt.Errorf("throttle: migrate: %w", err)
	}
	return nil
}

// SQL is a [Store] in two tables of a GORM database (see [Migrate]):
// PostgreSQL, where Admit and End serialise per bucket with transaction
// advisory locks, or SQLite, whose write transactions are serialised
// whole. Each Admit and End is one transaction of a few statements. Rows of
// windows that no longer count are deleted by an Admit at most once a
// window per SQL value.
type SQL struct {
	db       *gorm.DB
	postgres bool
	purged   atomic.Int64 // unix ms of the last purge
}

// NewSQL returns the store on db, whose tables Migrate has made.
func NewSQL(db *gorm.DB) *SQL {
	return &SQL{db: db, postgres: db.Dialector.Name() == "postgres"}
}

// lockClass is the first key of the advisory locks the store takes on
// PostgreSQL, so that they never meet an application's own ("gjwt").
const lockClass = 0x676a7774

// lock serialises the transaction with every other on one of a's buckets,
// and lets it commit without waiting for the disk.
// Locks are taken in the order of their keys, so two transactions never
// wait for each other in a cycle. SQLite needs none.
func (s *SQL) lock(tx *gorm.DB, a *Attempt) error {
	if !s.postgres {
		return nil
	}
	keys := make([]int32, 0, len(a.Buckets))
	for _, b := range a.Buckets {
		h := fnv.New32a()
		h.Write([]byte(b.Key))
		keys = append(keys, int32(h.Sum32()))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	// One statement, its target list evaluated left to right. Throttle
	// counts are worth no wait for a disk flush: a crash of the server may
	// lose the last few milliseconds of them, never more.
	q, args := "SELECT set_config('synchronous_commit', 'off', true)", make([]any, 0, 2*len(keys))
	for _, k := range keys {
		q += ", pg_advisory_xact_lock(?, ?)"
		args = append(args, lockClass, k)
	}
	return tx.Exec(q, args...).Error
}

func keysOf(a *Attempt) []string {
	keys := make([]string, len(a.Buckets))
	for i, b := range a.Buckets {
		keys[i] = b.Key
	}
	return keys
}

// Modes of counts: failures only; failures and flights as they stand,
// lapsed leases counted as failures (read without locks); or failures and
// flights after turning lapsed leases into failures (under the locks).
const (
	failuresOnly = iota
	peek
	settle
)

// counts reads the counts of a's buckets at now, as mode says.
func (s *SQL) counts(tx *gorm.DB, a *Attempt, now time.Time, mode int) ([]Counts, error) {
	keys := keysOf(a)
	cur := WindowStart(now, a.Window).UnixMilli()
	prev := cur - a.Window.Milliseconds()
	if mode == settle {
		var lapsed []string
		if err := tx.Raw("DELETE FROM ginjwt_throttle_flights WHERE bucket IN ? AND expires_at <= ? RETURNING bucket", keys, now.UnixMilli()).Scan(&lapsed).Error; err != nil {
			return nil, err
		}
		if err := s.fail(tx, lapsed, cur); err != nil {
			return nil, err
		}
	}
	// Failures (n, live 0) and, unless failuresOnly, flights (window_start
	// -1: n all, live those whose lease has not passed), in one query.
	q := "SELECT bucket, window_start, count AS n, 0 AS live FROM ginjwt_throttle_failures WHERE bucket IN ? AND window_start IN ?"
	args := []any{keys, []int64{cur, prev}}
	if mode != failuresOnly {
		q += " UNION ALL SELECT bucket, -1, COUNT(*), SUM(CASE WHEN expires_at > ? THEN 1 ELSE 0 END) FROM ginjwt_throttle_flights WHERE bucket IN ? GROUP BY bucket"
		args = append(args, now.UnixMilli(), keys)
	}
	var rows []struct {
		Bucket      string
		WindowStart int64
		N, Live     int64
	}
	if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Counts, len(keys))
	for _, r := range rows {
		for i, k := range keys {
			if k != r.Bucket {
				continue
			}
			switch r.WindowStart {
			case cur:
				out[i].Current += r.N
			case prev:
				out[i].Previous += r.N
			case -1:
				out[i].InFlight = r.Live
				out[i].Current += r.N - r.Live // lapsed: failures to be
			}
		}
	}
	return out, nil
}

// fail adds one failure to each of keys (a key given twice gets two) in
// the window starting at start.
func (s *SQL) fail(tx *gorm.DB, keys []string, start int64) error {
	for _, k := range keys {
		err := tx.Exec(`INSERT INTO ginjwt_throttle_failures (bucket, window_start, count) VALUES (?, ?, 1)
			ON CONFLICT (bucket, window_start) DO UPDATE SET count = ginjwt_throttle_failures.count + 1`, k, start).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// Check implements [Store].
func (s *SQL) Check(ctx context.Context, a *Attempt, now time.Time) (time.Duration, error) {
	counts, err := s.counts(s.db.WithContext(ctx), a, now, failuresOnly)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return RetryAfter(a, counts, now), nil
}

// Admit implements [Store].
func (s *SQL) Admit(ctx context.Context, a *Attempt, now time.Time) (Decision, error) {
	s.purge(ctx, a.Window, now)
	// An attempt asking again after a busy answer looks without locks
	// first: waiters (what a flood mostly is) take no lock from the
	// attempts ending.
	if a.Again {
		counts, err := s.counts(s.db.WithContext(ctx), a, now, peek)
		if err != nil {
			return Decision{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if d := Decide(a, counts, now); !d.Admitted {
			return d, nil
		}
	}
	var d Decision
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lock(tx, a); err != nil {
			return err
		}
		counts, err := s.counts(tx, a, now, settle)
		if err != nil {
			return err
		}
		if d = Decide(a, counts, now); !d.Admitted {
			return nil
		}
		rows := make([]Flight, len(a.Buckets))
		for i, b := range a.Buckets {
			rows[i] = Flight{AttemptID: a.ID, Bucket: b.Key, ExpiresAt: now.Add(a.Lease).UnixMilli()}
		}
		return tx.Create(&rows).Error
	})
	if err != nil {
		return Decision{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return d, nil
}

// End implements [Store].
func (s *SQL) End(ctx context.Context, a *Attempt, o Outcome, now time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lock(tx, a); err != nil {
			return err
		}
		var held []string
		if err := tx.Raw("DELETE FROM ginjwt_throttle_flights WHERE attempt_id = ? RETURNING bucket", a.ID).Scan(&held).Error; err != nil {
			return err
		}
		switch o {
		case Failed:
			return s.fail(tx, held, WindowStart(now, a.Window).UnixMilli())
		case Succeeded:
			var clear []string
			for _, b := range a.Buckets {
				if b.ClearOnSuccess {
					clear = append(clear, b.Key)
				}
			}
			if len(clear) > 0 {
				return tx.Where("bucket IN ?", clear).Delete(&Failure{}).Error
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// purge deletes, at most once a window, the failures of windows that no
// longer count and the flights whose lease passed two windows ago (their
// failure would fall in a window that no longer counts). A failed purge is
// tried again at the next Admit.
func (s *SQL) purge(ctx context.Context, window time.Duration, now time.Time) {
	last := s.purged.Load()
	if now.UnixMilli()-last < window.Milliseconds() || !s.purged.CompareAndSwap(last, now.UnixMilli()) {
		return
	}
	prev := WindowStart(now, window).Add(-window).UnixMilli()
	db := s.db.WithContext(ctx)
	err := db.Where("window_start < ?", prev).Delete(&Failure{}).Error
	if err == nil {
		err = db.Where("expires_at < ?", now.Add(-2*window).UnixMilli()).Delete(&Flight{}).Error
	}
	if err != nil {
		s.purged.CompareAndSwap(now.UnixMilli(), last)
	}
}

// State is a copy of the store's counts at now, for tests and diagnostics:
// the failures of every bucket in the current and previous windows added,
// and how many buckets have attempts in flight.
func (s *SQL) State(ctx context.Context, window time.Duration, now time.Time) (failures map[string]int64, inFlight int, err error) {
	cur := WindowStart(now, window).UnixMilli()
	var rows []Failure
	db := s.db.WithContext(ctx)
	if err := db.Where("window_start IN ?", []int64{cur, cur - window.Milliseconds()}).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	failures = map[string]int64{}
	for _, r := range rows {
		failures[r.Bucket] += r.Count
	}
	var n int64
	if err := db.Model(&Flight{}).Distinct("bucket").Count(&n).Error; err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return failures, int(n), nil
}
