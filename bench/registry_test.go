package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// loginEngine mounts ginjwt on db with one user, alice/pw, and returns the
// engine.
func loginEngine(tb testing.TB, db *gorm.DB, edit func(*ginjwt.Config)) (*gin.Engine, *ginjwt.Auth) {
	tb.Helper()
	store := users.NewStore(db, users.WithHasher(cheapHasher()))
	if _, err := store.FindByUsername(context.Background(), "alice"); err != nil {
		if err := store.Create(context.Background(), users.NewUser("alice"), "pw"); err != nil {
			tb.Fatal(err)
		}
	}
	cfg := ginjwt.Config{SigningKey: secret, DB: db, Users: store, Limits: ginjwt.Limits{Throttle: ginjwt.Throttle{Disabled: true}}}
	if edit != nil {
		edit(&cfg)
	}
	r := gin.New()
	auth, err := ginjwt.Mount(r, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { auth.Close(context.Background()) })
	return r, auth
}

var loginBody = []byte(`{"username":"alice","password":"pw"}`)

func loginRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/auth/token", bytes.NewReader(loginBody))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// BenchmarkLogin is POST /auth/token with a cheap password hash, so that
// what is measured is issuing and registering the pair: registration in the
// request (sync) or in the background (async), on SQLite and PostgreSQL.
func BenchmarkLogin(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"none", "sync", "async"} {
			b.Run("db="+engine+"/registration="+mode, func(b *testing.B) {
				db := openSQLite(b)
				if engine == "postgres" {
					db = openPostgres(b)
				}
				r, auth := loginEngine(b, db, func(c *ginjwt.Config) {
					c.Registry.Disabled = mode == "none"
					c.Registry.Async = mode == "async"
				})
				w := newSink()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					r.ServeHTTP(w, loginRequest())
				}
				b.StopTimer()
				if err := auth.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkLoginDefaultHash is a login with the default argon2id
// parameters: the share of the request that is issuing and registering.
func BenchmarkLoginDefaultHash(b *testing.B) {
	db := openSQLite(b)
	store := users.NewStore(db)
	if err := store.Create(context.Background(), users.NewUser("alice"), "pw"); err != nil {
		b.Fatal(err)
	}
	r, _ := loginEngine(b, db, func(c *ginjwt.Config) { c.Users = store })
	w := newSink()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.ServeHTTP(w, loginRequest())
	}
}

// BenchmarkRefresh refreshes one session, with and without rotation (each
// rotation presents the refresh token the previous one returned).
func BenchmarkRefresh(b *testing.B) {
	for _, rotate := range []bool{false, true} {
		b.Run(fmt.Sprintf("rotate=%v", rotate), func(b *testing.B) {
			r, _ := loginEngine(b, openSQLite(b), func(c *ginjwt.Config) { c.Tokens.DisableRefreshRotation = !rotate })
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, loginRequest())
			var pair struct{ Access, Refresh string }
			if err := json.Unmarshal(rec.Body.Bytes(), &pair); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/auth/token/refresh", nil)
				req.Header.Set("Authorization", "Bearer "+pair.Refresh)
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
				}
				if rotate {
					var next struct{ Refresh string }
					_ = json.Unmarshal(rec.Body.Bytes(), &next)
					pair.Refresh = next.Refresh
				}
			}
		})
	}
}

// buildTree inserts a 10,000-token tree: a chain of 2,000 rotated refresh
// tokens, each with 4 access tokens. It returns the reg and a leaf's ID.
func buildTree(tb testing.TB, db *gorm.DB, n int) (*registry.Registry, int64) {
	tb.Helper()
	reg, err := registry.New(db, registry.Options{MaxLifetime: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UTC()
	var parent *int64
	var leaf int64
	for i := 0; i < n; i += 5 {
		refresh := registry.Token{JTI: fmt.Sprintf("r%d", i), Type: "refresh", ParentID: parent, SessionID: "tree", IssuedAt: now, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		if err := db.Create(&refresh).Error; err != nil {
			tb.Fatal(err)
		}
		access := make([]registry.Token, 4)
		for j := range access {
			access[j] = registry.Token{JTI: fmt.Sprintf("a%d-%d", i, j), Type: "access", ParentID: &refresh.ID, SessionID: "tree", IssuedAt: now, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		}
		if err := db.Create(&access).Error; err != nil {
			tb.Fatal(err)
		}
		id := refresh.ID
		parent, leaf = &id, access[3].ID
	}
	// As autovacuum would have by now on a real table.
	if db.Dialector.Name() == "postgres" {
		db.Exec("ANALYZE ginjwt_tokens")
	}
	return reg, leaf
}

// BenchmarkCollectTree collects a 10,000-token tree from one of its leaves.
func BenchmarkCollectTree(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run("db="+engine, func(b *testing.B) {
			db := openSQLite(b)
			if engine == "postgres" {
				db = openPostgres(b)
			}
			reg, leaf := buildTree(b, db, 10_000)
			b.ResetTimer()
			for b.Loop() {
				ids, err := reg.CollectTree(context.Background(), leaf)
				if err != nil || len(ids) != 10_000 {
					b.Fatalf("%d ids, %v", len(ids), err)
				}
			}
		})
	}
}

// TestArchiveMillionOnPostgres archives 1,000,000 expired tokens on
// PostgreSQL while logins keep going, and reports the archive's time and
// the logins' latency before and during it. It is long: set
// GINJWT_BENCH_ARCHIVE=1 to run it.
func TestArchiveMillionOnPostgres(t *testing.T) {
	if os.Getenv("GINJWT_BENCH_ARCHIVE") != "1" {
		t.Skip("set GINJWT_BENCH_ARCHIVE=1 to run the 1,000,000-token archive")
	}
	const n = 1_000_000
	db := openPostgres(t)
	start := time.Now()
	err := db.Exec(`INSERT INTO ginjwt_tokens (jti, type, session_id, issued_at, expires_at, revoke_reason, created_at)
		SELECT 'old-' || g, CASE WHEN g % 5 = 0 THEN 'refresh' ELSE 'access' END, 's-' || (g / 5),
		       now() - interval '30 days', now() - interval '20 days', '', now() - interval '30 days'
		FROM generate_series(1, ?) AS g`, n).Error
	if err != nil {
		t.Fatal(err)
	}
	err = db.Exec(`INSERT INTO ginjwt_token_users (token_id, user_id, created_at)
		SELECT id, 'u-' || (id % 1000), created_at FROM ginjwt_tokens`).Error
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("ANALYZE")
	t.Logf("inserted %d expired tokens and their user connections in %v", n, time.Since(start).Round(time.Millisecond))

	r, auth := loginEngine(t, db, nil)
	measure := func(stop <-chan struct{}) []time.Duration {
		var lat []time.Duration
		for {
			select {
			case <-stop:
				return lat
			default:
			}
			t0 := time.Now()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, loginRequest())
			if rec.Code != http.StatusOK {
				t.Errorf("login during archive: %d %s", rec.Code, rec.Body)
				return lat
			}
			lat = append(lat, time.Since(t0))
		}
	}
	before := make(chan struct{})
	time.AfterFunc(2*time.Second, func() { close(before) })
	baseline := measure(before)

	stop := make(chan struct{})
	var during []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); during = measure(stop) }()
	var deleted atomic.Int64
	start = time.Now()
	got, err := auth.Registry().Archive(context.Background(), time.Now().Add(-240*time.Hour))
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	deleted.Store(int64(got))
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("archived %d, want %d", got, n)
	}
	t.Logf("archived %d tokens in %v (%.0f tokens/s, batches of %d)", got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds(), registry.ArchiveBatch)
	t.Logf("login latency before: %s", percentiles(baseline))
	t.Logf("login latency during: %s", percentiles(during))
}

func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(p float64) time.Duration {
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", len(d), at(0.50), at(0.99), d[len(d)-1].Round(10*time.Microsecond))
}
