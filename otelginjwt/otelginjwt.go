package otelginjwt

import (
	"fmt"
	"sync"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ginjwt/ginjwt"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/ginjwt/ginjwt/otelginjwt"

// Options configure [New]. A zero field means its default.
type Options struct {
	// MeterProvider makes the meter. Default otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider makes the tracer. Default otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// Propagator reads the trace context of requests whose context has no
	// span yet. Default otel.GetTextMapPropagator().
	Propagator propagation.TextMapPropagator
}

// Telemetry holds the instruments and the tracer. Make one with [New]; it is
// safe for concurrent use.
type Telemetry struct {
	tracer trace.Tracer
	meter  metric.Meter
	prop   propagation.TextMapPropagator

	logins        metric.Int64Counter
	loginFailures metric.Int64Counter
	refreshes     metric.Int64Counter
	reuse         metric.Int64Counter
	revocations   metric.Int64Counter
	regFailures   metric.Int64Counter
	regDuration   metric.Float64Histogram

	cacheLookups metric.Int64ObservableCounter
	cacheEntries metric.Int64ObservableUpDownCounter
	queueDepth   metric.Int64ObservableUpDownCounter
	queueLimit   metric.Int64ObservableUpDownCounter

	mu   sync.Mutex
	auth *ginjwt.Auth // the Auth Instrument reports, until its stop
}

// registrationBuckets are the bounds of ginjwt.registration.duration, in
// seconds: a few database writes take from under a millisecond (SQLite) to
// seconds (a pool under pressure).
var registrationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// New makes the instruments and the tracer. It fails only when the meter
// provider refuses an instrument.
func New(opts Options) (*Telemetry, error) {
	if opts.MeterProvider == nil {
		opts.MeterProvider = otel.GetMeterProvider()
	}
	if opts.TracerProvider == nil {
		opts.TracerProvider = otel.GetTracerProvider()
	}
	if opts.Propagator == nil {
		opts.Propagator = otel.GetTextMapPropagator()
	}
	t := &Telemetry{
		tracer: opts.TracerProvider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		meter:  opts.MeterProvider.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL)),
		prop:   opts.Propagator,
	}
	m := t.meter
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	t.logins = counter("ginjwt.logins", "{login}", "Successful logins.")
	t.loginFailures = counter("ginjwt.login.failures", "{login}", "Refused logins, by error code.")
	t.refreshes = counter("ginjwt.refreshes", "{refresh}", "Tokens issued from a refresh token, by endpoint.")
	t.reuse = counter("ginjwt.refresh.reuse_detections", "{detection}", "Rotated-out refresh tokens presented again; each revoked its session.")
	t.revocations = counter("ginjwt.revocations", "{revocation}", "Tokens, sessions and users revoked, by kind and reason.")
	t.regFailures = counter("ginjwt.registration.failures", "{registration}", "Background token registrations that failed for good.")
	var err error
	t.regDuration, err = m.Float64Histogram("ginjwt.registration.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of each attempt at the token registration steps."),
		metric.WithExplicitBucketBoundaries(registrationBuckets...))
	errs = append(errs, err)
	t.cacheLookups, err = m.Int64ObservableCounter("ginjwt.token_cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Lookups in the verified-token cache, by result (hit or miss)."))
	errs = append(errs, err)
	t.cacheEntries = gauge("ginjwt.token_cache.entries", "{token}", "Tokens in the verified-token cache.")
	t.queueDepth = gauge("ginjwt.registration.queue.depth", "{registration}", "Registrations waiting in the background queue.")
	t.queueLimit = gauge("ginjwt.registration.queue.limit", "{registration}", "Capacity of the background registration queue.")
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("otelginjwt: %w", err)
		}
	}
	return t, nil
}

// Configure wraps cfg's hooks so that logins, refreshes, updates and token
// registrations run in spans and registrations are timed (see the package
// documentation). Call it on the Config before [ginjwt.Mount] or
// [ginjwt.New]; the metrics of [Telemetry.Instrument] need it only for
// ginjwt.registration.duration.
//
// It wraps Config.Routes.Handlers.Obtain, Refresh and Update around any wrapper
// already set, so their spans cover it, and Config.Registry.Pipeline around
// any function already set: the steps that function returns run as one
// step, in order, inside the ginjwt.register span (so Runner.Steps reports
// one step). Calling it twice nests the spans twice.
func (t *Telemetry) Configure(cfg *ginjwt.Config) {
	cfg.Routes.Handlers.Obtain = t.handler(spanLogin, cfg.Routes.Handlers.Obtain)
	cfg.Routes.Handlers.Refresh = t.handler(spanRefresh, cfg.Routes.Handlers.Refresh)
	cfg.Routes.Handlers.Update = t.handler(spanUpdate, cfg.Routes.Handlers.Update)
	cfg.Registry.Pipeline = t.pipeline(cfg.Registry.Pipeline)
}

// handler returns the ginjwt.Handler that runs the built-in endpoint (through
// wrap, when set) inside a span named name.
func (t *Telemetry) handler(name string, wrap ginjwt.Handler) ginjwt.Handler {
	return func(builtin gin.HandlerFunc) gin.HandlerFunc {
		if wrap != nil {
			builtin = wrap(builtin)
		}
		return t.traced(name, builtin)
	}
}
