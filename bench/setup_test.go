// Package bench compares ginjwt, side by side in one run, with bare gin,
// the raw HS256 floor, a hand-written golang-jwt middleware and
// appleboy/gin-jwt. It is a module of its own so that the peers never enter
// ginjwt's dependencies. See BENCHMARKS.md at the repository's root.
package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/postgres"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
	"github.com/ginjwt/ginjwt/users"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// secret is the HS256 key every implementation uses.
var secret = []byte("bench-secret-bench-secret-bench-secret!!")

// sink is a ResponseWriter that keeps only the status: the benchmarks
// measure the server, not a recorder.
type sink struct {
	header http.Header
	code   int
}

func newSink() *sink { return &sink{header: http.Header{}} }

func (s *sink) Header() http.Header         { return s.header }
func (s *sink) Write(b []byte) (int, error) { return len(b), nil }
func (s *sink) WriteHeader(code int)        { s.code = code }

// writer says what the benchmarks answer into: "recorder" (default), a
// new httptest.ResponseRecorder per request as the figures were
// taken; "sink" (BENCH_WRITER=sink), a reused writer that keeps nothing,
// which leaves the server's own cost alone and makes every ratio stricter.
var writer = os.Getenv("BENCH_WRITER")

// serve runs req through h b.N times and fails on any status but want.
func serve(b *testing.B, h http.Handler, req *http.Request, want int) {
	b.Helper()
	status := func(w http.ResponseWriter) int {
		switch w := w.(type) {
		case *httptest.ResponseRecorder:
			return w.Code
		case *sink:
			if w.code == 0 {
				return http.StatusOK
			}
			return w.code
		}
		return 0
	}
	next := func() http.ResponseWriter { return httptest.NewRecorder() }
	if writer == "sink" {
		s := newSink()
		next = func() http.ResponseWriter { s.code = 0; return s }
	}
	w := next()
	h.ServeHTTP(w, req) // warm up (and check) outside the timer
	if got := status(w); got != want {
		b.Fatalf("status %d, want %d", got, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w = next()
		h.ServeHTTP(w, req)
	}
	if got := status(w); got != want {
		b.Fatalf("status %d, want %d", got, want)
	}
}

// bearer is a GET of path with an Authorization header.
func bearer(path, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// hello answers authenticated requests the same way for every
// implementation.
func hello(c *gin.Context) { c.String(http.StatusOK, "ok") }

// openSQLite opens a fresh SQLite database for b, migrated.
func openSQLite(tb testing.TB) *gorm.DB {
	tb.Helper()
	db, err := database.Open("sqlite:"+filepath.Join(tb.TempDir(), "bench.db"), database.WithLogger(logger.Discard))
	if err != nil {
		tb.Fatal(err)
	}
	migrate(tb, db)
	return db
}

// postgresDSN is the benchmark PostgreSQL, as in the tests.
func postgresDSN() string {
	if dsn := os.Getenv("GINJWT_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
}

// openPostgres opens PostgreSQL on a schema of its own, dropped afterwards.
// It skips when PostgreSQL is unreachable.
func openPostgres(tb testing.TB) *gorm.DB {
	tb.Helper()
	admin, err := database.Open(postgresDSN(), database.WithLogger(logger.Discard))
	if err == nil {
		err = admin.Exec("SELECT 1").Error
	}
	if err != nil {
		tb.Skipf("PostgreSQL unreachable: %v", err)
	}
	schema := "bench_" + users.NewID()[24:]
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		tb.Fatal(err)
	}
	db, err := database.Open(postgresDSN()+" search_path="+schema, database.WithLogger(logger.Discard))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
	})
	migrate(tb, db)
	return db
}

func migrate(tb testing.TB, db *gorm.DB) {
	tb.Helper()
	if err := ginjwt.Migrate(context.Background(), db); err != nil {
		tb.Fatal(err)
	}
}

// cheapHasher keeps password hashing out of benchmarks that measure
// everything else.
func cheapHasher() *users.Hasher {
	return users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)
}

// alice is a user that exists only in tokens.
var alice = &users.User{ID: "0190f000-0000-7000-8000-000000000001", Username: "alice", IsActive: true, Perms: users.Perms{"perm1"}}

// login issues a session for u through auth.Login, as an application's own
// login view would, and returns the access token.
func login(tb testing.TB, auth *ginjwt.Auth, u *users.User) *ginjwt.Issued {
	tb.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/login", nil)
	pair, err := auth.Login(c, u)
	if err != nil {
		tb.Fatal(err)
	}
	return pair
}
