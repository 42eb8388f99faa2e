package otelginjwt_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite" // links SQLite into database.Open
	"github.com/ginjwt/ginjwt/otelginjwt"
	"github.com/ginjwt/ginjwt/users"
)

// Example reports one login and one wrong password to in-memory readers.
// An application passes its own providers (an OTLP exporter, Prometheus),
// or none to use the global ones.
func Example() {
	ctx := context.Background()
	db, err := database.Open("sqlite::memory:")
	if err != nil {
		panic(err)
	}
	if err := ginjwt.Migrate(ctx, db); err != nil {
		panic(err)
	}
	store := users.NewStore(db)
	if err := store.Create(ctx, users.NewUser("alice"), "correct horse battery staple"); err != nil {
		panic(err)
	}

	metrics := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	tel, err := otelginjwt.New(otelginjwt.Options{
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics)),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
	})
	if err != nil {
		panic(err)
	}
	cfg := ginjwt.Config{SigningKey: []byte("an example secret of 32+ bytes!!"), DB: db, Users: store}
	tel.Configure(&cfg) // spans around login, refresh, update and registration
	r := gin.New()
	auth, err := ginjwt.Mount(r, cfg)
	if err != nil {
		panic(err)
	}
	defer auth.Close(ctx)
	stop, err := tel.Instrument(auth) // metrics from the events and auth.Stats()
	if err != nil {
		panic(err)
	}
	defer stop()

	for _, password := range []string{"correct horse battery staple", "wrong"} {
		req := httptest.NewRequest("POST", "/auth/token", strings.NewReader(`{"username":"alice","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
		r.ServeHTTP(httptest.NewRecorder(), req)
	}

	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok && strings.HasPrefix(m.Name, "ginjwt.login") {
			for _, dp := range sum.DataPoints {
				fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	for _, s := range spans.Ended() {
		fmt.Println(strings.TrimSpace(fmt.Sprint(s.Name(), " ", s.Status().Code, " ", s.Status().Description)))
	}
	// Output:
	// ginjwt.logins  1
	// ginjwt.login.failures error.type=invalid_credentials 1
	// ginjwt.register Unset
	// ginjwt.login Unset
	// ginjwt.login Error invalid_credentials
}
