package otelginjwt_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
	"github.com/ginjwt/ginjwt/otelginjwt"
	"github.com/ginjwt/ginjwt/users"
)

func init() { gin.SetMode(gin.TestMode) }

// fixture is ginjwt mounted on a gin engine over a real database, with
// otelginjwt reporting to in-memory readers.
type fixture struct {
	t      *testing.T
	engine *gin.Engine
	auth   *ginjwt.Auth
	store  *users.Store
	tel    *otelginjwt.Telemetry
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	stop   func() error
}

// sqlite opens an SQLite file in a temporary directory of t, closed when t ends.
func sqlite(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := database.Open("sqlite:" + filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// newFixture mounts ginjwt over db (SQLite when nil) with otelginjwt
// configured and instrumenting; before runs on the engine first (an
// upstream middleware), edit adjusts the Config before Configure.
func newFixture(t *testing.T, db *gorm.DB, before gin.HandlerFunc, edit func(*ginjwt.Config)) *fixture {
	t.Helper()
	if db == nil {
		db = sqlite(t)
	}
	ctx := context.Background()
	if err := ginjwt.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	f.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.spans))
	tel, err := otelginjwt.New(otelginjwt.Options{
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader)),
		TracerProvider: f.tp,
		Propagator:     propagation.TraceContext{},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.tel = tel
	f.store = users.NewStore(db, users.WithHasher(users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)))
	cfg := ginjwt.Config{SigningKey: []byte("0123456789abcdef0123456789abcdef"), DB: db, Users: f.store}
	if edit != nil {
		edit(&cfg)
	}
	tel.Configure(&cfg)
	f.engine = gin.New()
	if before != nil {
		f.engine.Use(before)
	}
	f.auth, err = ginjwt.Mount(f.engine, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.auth.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if f.stop, err = tel.Instrument(f.auth); err != nil {
		t.Fatal(err)
	}
	f.engine.GET("/api/hello", ginjwt.RequireLogin(), func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
	return f
}

// user creates an active user with password "pw-<name>".
func (f *fixture) user(name string) *users.User {
	f.t.Helper()
	u := users.NewUser(name)
	if err := f.store.Create(context.Background(), u, "pw-"+name); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// do sends a request with a JSON body (when body is not nil) and headers
// given as name, value, ….
func (f *fixture) do(method, path string, body any, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	var r *http.Request
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		r = httptest.NewRequest(method, path, bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	r.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	f.engine.ServeHTTP(w, r)
	return w
}

type pair struct{ Access, Refresh string }

// login logs name in, failing the test otherwise.
func (f *fixture) login(name string, header ...string) pair {
	f.t.Helper()
	w := f.do("POST", "/auth/token", map[string]string{"username": name, "password": "pw-" + name}, header...)
	want(f.t, w, 200, "")
	return decodePair(f.t, w)
}

// refresh trades a refresh token at path, failing the test unless it works.
func (f *fixture) refresh(path, token string) pair {
	f.t.Helper()
	w := f.do("POST", path, map[string]string{"refresh": token})
	want(f.t, w, 200, "")
	return decodePair(f.t, w)
}

func decodePair(t *testing.T, w *httptest.ResponseRecorder) pair {
	t.Helper()
	var p pair
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Access == "" {
		t.Fatalf("no pair in %s (%v)", w.Body, err)
	}
	return p
}

// want checks an answer's status and, when code is set, its error code.
func want(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var body ginjwt.ErrorBody
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != status || body.Error != code {
		t.Fatalf("got %d %q (%s), want %d %q", w.Code, body.Error, w.Body, status, code)
	}
}

// sid is the session ID (the sid claim) of a token.
func sid(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.SID == "" {
		t.Fatalf("no sid in %s (%v)", payload, err)
	}
	return c.SID
}

// collect reads every metric the reader holds.
func (f *fixture) collect() metricdata.ResourceMetrics {
	f.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		f.t.Fatal(err)
	}
	return rm
}

// find returns the metric named name, and whether there is one.
func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// key writes an attribute set as "k=v,k=v" (sorted), "" for the empty set.
func key(s attribute.Set) string {
	var kv []string
	for _, a := range s.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.Emit())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// points returns the values of an int64 sum (counter or up-down counter)
// by attribute set, failing when the metric is of another kind. A metric
// never recorded has no points.
func points(t *testing.T, rm metricdata.ResourceMetrics, name string) map[string]int64 {
	t.Helper()
	m, ok := find(rm, name)
	if !ok {
		return map[string]int64{}
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want an int64 sum", name, m.Data)
	}
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		out[key(dp.Attributes)] = dp.Value
	}
	return out
}

// histogram returns the count and sum of a float64 histogram by attribute
// set.
func histogram(t *testing.T, rm metricdata.ResourceMetrics, name string) (counts map[string]uint64, sums map[string]float64) {
	t.Helper()
	counts, sums = map[string]uint64{}, map[string]float64{}
	m, ok := find(rm, name)
	if !ok {
		return counts, sums
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T, want a float64 histogram", name, m.Data)
	}
	for _, dp := range h.DataPoints {
		counts[key(dp.Attributes)] = dp.Count
		sums[key(dp.Attributes)] = dp.Sum
	}
	return counts, sums
}

// equal fails unless got and want hold the same entries.
func equal[V comparable](t *testing.T, name string, got, want map[string]V) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
		return
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v, want %v", name, got, want)
			return
		}
	}
}

// ended returns the ended spans named name, in the order they ended.
func (f *fixture) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range f.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// attr returns the value of a span's attribute k, "" when it has none.
func attr(s sdktrace.ReadOnlySpan, k string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == k {
			return a.Value.Emit()
		}
	}
	return ""
}
