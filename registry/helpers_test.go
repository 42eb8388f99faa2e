package registry_test

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

var quiet = slog.New(slog.DiscardHandler)

const (
	accessTTL  = 5 * time.Minute
	refreshTTL = 24 * time.Hour
)

// clock is a controllable Options.Clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts at the current time, to the millisecond, in UTC: close to
// real time, so rows compare sensibly with what a real clock would write.
func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// newRegistry migrates db and returns a Registry on it, closed when t ends.
// A zero MaxLifetime becomes refreshTTL + a minute.
func newRegistry(t testing.TB, db *gorm.DB, opts registry.Options) *registry.Registry {
	t.Helper()
	if err := registry.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if opts.MaxLifetime == 0 {
		opts.MaxLifetime = refreshTTL + time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	reg, err := registry.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := reg.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return reg
}

// secondPool opens a second connection pool on the database of db: what a
// second instance of the application would use.
func secondPool(t testing.TB, db *gorm.DB) *gorm.DB {
	t.Helper()
	var dsn string
	if database.EngineOf(db) == database.Postgres {
		dsn = testdb.PostgresSchemaDSN(t, db)
	} else {
		var files []struct {
			Name string
			File string
		}
		if err := db.Raw("PRAGMA database_list").Scan(&files).Error; err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Name == "main" {
				dsn = "sqlite:" + f.File
			}
		}
		if dsn == "" || dsn == "sqlite:" {
			t.Fatalf("no file behind the SQLite database: %+v", files)
		}
	}
	other, err := database.Open(dsn, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := other.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return other
}

func isPostgres(db *gorm.DB) bool { return database.EngineOf(db) == database.Postgres }

// token returns a token issued at iat that lives ttl.
func token(jti, typ, sid string, iat time.Time, ttl time.Duration) pipeline.Token {
	return pipeline.Token{ID: jti, Type: typ, SessionID: sid, IssuedAt: iat, ExpiresAt: iat.Add(ttl)}
}

// login returns the event of a login at iat: a session root refresh token
// sid and its access token.
func login(sid, user string, iat time.Time) *pipeline.Event {
	refresh := token(sid, "refresh", sid, iat, refreshTTL)
	refresh.UserID = user
	access := token(sid+"-a", "access", sid, iat, accessTTL)
	access.UserID = user
	return &pipeline.Event{Kind: pipeline.Obtained, UserID: user, Time: iat,
		Pairs: []pipeline.Pair{{Child: refresh}, {Child: access, Parent: &refresh}}}
}

// record runs e through RegisterPairs and ConnectUser.
func record(t testing.TB, reg *registry.Registry, e *pipeline.Event) {
	t.Helper()
	ctx := context.Background()
	if err := reg.RegisterPairs(ctx, e); err != nil {
		t.Fatalf("RegisterPairs: %v", err)
	}
	if err := reg.ConnectUser(ctx, e); err != nil {
		t.Fatalf("ConnectUser: %v", err)
	}
}

func mustJTI(t testing.TB, reg *registry.Registry, jti string) *registry.Token {
	t.Helper()
	tk, err := reg.FindByJTI(context.Background(), jti)
	if err != nil {
		t.Fatalf("FindByJTI(%q): %v", jti, err)
	}
	return tk
}

func idOf(t testing.TB, reg *registry.Registry, jti string) int64 {
	t.Helper()
	return mustJTI(t, reg, jti).ID
}

func idsOf(t testing.TB, reg *registry.Registry, jtis ...string) []int64 {
	t.Helper()
	ids := make([]int64, 0, len(jtis))
	for _, j := range jtis {
		ids = append(ids, idOf(t, reg, j))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func count(t testing.TB, db *gorm.DB, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func revocations(t testing.TB, db *gorm.DB) []registry.Revocation {
	t.Helper()
	var rows []registry.Revocation
	if err := db.Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// eventually polls cond every few milliseconds until it holds or d passes,
// and returns how long it took.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func isNotFound(err error) bool { return errors.Is(err, registry.ErrNotFound) }

// tok is a presented token of generation 0 (a session issued before any
// cut-off), for Revoked.
func tok(jti, sid, user string, iat time.Time) *pipeline.Token {
	return &pipeline.Token{ID: jti, SessionID: sid, UserID: user, IssuedAt: iat}
}

// ofGeneration returns t with generation gen.
func ofGeneration(t *pipeline.Token, gen int64) *pipeline.Token {
	t.Generation = gen
	return t
}

// loginGen is login under the user's cut-off generation gen.
func loginGen(sid, user string, iat time.Time, gen int64) *pipeline.Event {
	e := login(sid, user, iat)
	for i := range e.Pairs {
		e.Pairs[i].Child.Generation = gen
		if p := e.Pairs[i].Parent; p != nil {
			p.Generation = gen
		}
	}
	return e
}
