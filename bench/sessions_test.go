package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
)

// BenchmarkSessionFirstRequest is an authenticated GET whose access token
// belongs to a session never seen before, every request a new session: what
// a server pays when many distinct users arrive. The verified-token cache
// is off (a new session's token is never in it). registry=none is the
// baseline; registry=sqlite and registry=postgres add the revocation check
// and the session's activity note (its last-used time). token=fresh is a
// token issued just before, as a session's first request after its login
// is (its registration noted the session, so the request notes nothing);
// token=2m-old one issued 2 minutes before, as the first request after a
// session idled (the request notes the session). Run it with a fixed
// -benchtime (100000x): the tokens are minted before the timer starts, one
// per iteration, by a second Auth without a registry that shares the key,
// so minting writes nothing to the database. Compare with benchstat -col
// /registry (BENCHMARKS.md).
func BenchmarkSessionFirstRequest(b *testing.B) {
	for _, age := range []time.Duration{0, 2 * time.Minute} {
		name := "token=fresh"
		if age > 0 {
			name = "token=" + strings.TrimSuffix(age.String(), "0s") + "-old"
		}
		for _, db := range []string{"none", "sqlite", "postgres"} {
			b.Run(name+"/registry="+db, func(b *testing.B) {
				r, mint := sessionEngine(b, db, age)
				tokens := mintAccess(b, mint, b.N)
				serveEach(b, r, func(i int) string { return tokens[i] })
			})
		}
	}
}

// BenchmarkSessionMemory serves b.N new sessions' first requests, as
// BenchmarkSessionFirstRequest does, then reports the live heap each session
// left behind (runtime.ReadMemStats after a GC, over b.N) as B/session. Run
// it with -benchtime 1000000x for the figure in BENCHMARKS.md. Tokens are
// minted in batches so that only the server's own memory remains, 2
// minutes old, so that every request notes its session.
func BenchmarkSessionMemory(b *testing.B) {
	for _, db := range []string{"none", "sqlite"} {
		b.Run("registry="+db, func(b *testing.B) {
			r, mint := sessionEngine(b, db, 2*time.Minute)
			before := liveHeap()
			const batch = 10_000
			var tokens []string
			serveEach(b, r, func(i int) string {
				if i%batch == 0 {
					b.StopTimer()
					tokens = mintAccess(b, mint, min(batch, b.N-i))
					b.StartTimer()
				}
				return tokens[i%batch]
			})
			tokens = nil
			after := liveHeap()
			b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "B/session")
			runtime.KeepAlive(r)
		})
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// sessionEngine mounts ginjwt with the verified-token cache off, with the
// registry on db ("none": without a registry), behind /hello; mint is an
// Auth with the same key and no registry, to issue tokens cheaply, whose
// clock is age behind.
func sessionEngine(b *testing.B, db string, age time.Duration) (r *gin.Engine, mint *ginjwt.Auth) {
	b.Helper()
	key := ginjwt.Key{Algorithm: "HS256", Secret: secret}
	cfg := ginjwt.Config{Keys: []ginjwt.Key{key}, Routes: ginjwt.Routes{Paths: ginjwt.Paths{Obtain: "-"}}, Limits: ginjwt.Limits{Cache: ginjwt.Cache{Disabled: true}}}
	var gdb *gorm.DB
	switch db {
	case "sqlite":
		gdb = openSQLite(b)
	case "postgres":
		gdb = openPostgres(b)
	}
	cfg.DB = gdb
	r = gin.New()
	auth, err := ginjwt.Mount(r, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close(context.Background()) })
	r.GET("/hello", ginjwt.RequireLogin(), hello)

	past := func() time.Time { return time.Now().Add(-age) }
	mint, err = ginjwt.Mount(gin.New(), ginjwt.Config{Keys: []ginjwt.Key{key}, Clock: past, Routes: ginjwt.Routes{Paths: ginjwt.Paths{Obtain: "-"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mint.Close(context.Background()) })
	if a, m := auth.KeyIDs(), mint.KeyIDs(); len(a) != 1 || len(m) != 1 || a[0] != m[0] {
		b.Fatalf("key IDs differ: %v, %v", a, m)
	}
	return r, mint
}

// mintAccess returns n "Bearer <access token>" values, each of a new
// session of alice.
func mintAccess(b *testing.B, mint *ginjwt.Auth, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = "Bearer " + login(b, mint, alice).Access
	}
	return out
}

// serveEach runs b.N GETs of /hello through h, the i-th with the
// Authorization header auth(i), and fails on any status but 200. It reuses
// one request (the middleware works on a copy) and answers into the writer
// BENCH_WRITER names, as serve does.
func serveEach(b *testing.B, h http.Handler, auth func(i int) string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/hello", nil)
	req.Header.Set("Authorization", "")
	header := req.Header["Authorization"]
	var rec *httptest.ResponseRecorder
	s := newSink()
	next := func() http.ResponseWriter { rec = httptest.NewRecorder(); return rec }
	code := func() int { return rec.Code }
	if writer == "sink" {
		next = func() http.ResponseWriter { s.code = 0; return s }
		code = func() int { return max(s.code, http.StatusOK) }
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		header[0] = auth(i)
		h.ServeHTTP(next(), req)
		if c := code(); c != http.StatusOK {
			b.Fatalf("request %d: status %d", i, c)
		}
	}
	b.StopTimer()
}
