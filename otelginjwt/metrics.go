package otelginjwt

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/registry"
)

// Attribute keys of this package's metrics and spans.
const (
	RefreshKindKey        = attribute.Key("ginjwt.refresh.kind")        // "refresh" or "update"
	RevocationKindKey     = attribute.Key("ginjwt.revocation.kind")     // "token", "session" or "user"
	RevocationReasonKey   = attribute.Key("ginjwt.revocation.reason")   // one of ginjwt's reasons, or "other"
	RegistrationKindKey   = attribute.Key("ginjwt.registration.kind")   // "obtained", "refreshed", "updated", "manual" or "other"
	RegistrationTokensKey = attribute.Key("ginjwt.registration.tokens") // tokens in the registration (spans only)
	CacheResultKey        = attribute.Key("ginjwt.token_cache.result")  // "hit" or "miss"
)

// ErrInstrumented is returned by [Telemetry.Instrument] while the Telemetry
// already reports another Auth.
var ErrInstrumented = errors.New("otelginjwt: this Telemetry already instruments an Auth; stop it first, or make another Telemetry with its own MeterProvider")

// Instrument turns auth's events into this package's counters and reports
// auth's [ginjwt.Stats] through the observable instruments, until stop is
// called (stop returns the meter's error, if any, and does nothing the
// second time). One Telemetry reports one Auth at a time: a second call
// before stop fails with [ErrInstrumented], since nothing in the
// observations would tell two apart.
//
// The event subscribers cost a counter increment each, in the request.
func (t *Telemetry) Instrument(auth *ginjwt.Auth) (stop func() error, err error) {
	if auth == nil {
		return nil, errors.New("otelginjwt: Instrument with a nil Auth")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.auth != nil {
		return nil, ErrInstrumented
	}
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		t.observe(auth.Stats(), o)
		return nil
	}, t.cacheLookups, t.cacheEntries, t.queueDepth, t.queueLimit)
	if err != nil {
		return nil, err
	}
	var unsubscribe []func()
	for _, kind := range []ginjwt.EventKind{
		ginjwt.LoggedIn, ginjwt.LoginFailed, ginjwt.AccessRefreshed, ginjwt.RefreshUpdated,
		ginjwt.RefreshReuseDetected, ginjwt.TokenRevoked, ginjwt.SessionRevoked, ginjwt.RegistrationFailed,
	} {
		unsubscribe = append(unsubscribe, auth.Subscribe(kind, t.event))
	}
	t.auth = auth
	var stopped bool
	return func() error {
		t.mu.Lock()
		defer t.mu.Unlock()
		if stopped {
			return nil
		}
		stopped = true
		for _, u := range unsubscribe {
			u()
		}
		t.auth = nil
		return reg.Unregister()
	}, nil
}

var (
	hit  = metric.WithAttributeSet(attribute.NewSet(CacheResultKey.String("hit")))
	miss = metric.WithAttributeSet(attribute.NewSet(CacheResultKey.String("miss")))
)

// observe reports a Stats snapshot. The queue is reported only when there
// is one (Registry.Async).
func (t *Telemetry) observe(s ginjwt.Stats, o metric.Observer) {
	o.ObserveInt64(t.cacheLookups, int64(s.CacheHits), hit)
	o.ObserveInt64(t.cacheLookups, int64(s.CacheMisses), miss)
	o.ObserveInt64(t.cacheEntries, int64(s.CacheEntries))
	if s.RegistrationQueueSize > 0 {
		o.ObserveInt64(t.queueDepth, int64(s.RegistrationsQueued))
		o.ObserveInt64(t.queueLimit, int64(s.RegistrationQueueSize))
	}
}

// event counts one of ginjwt's events, and notes the ones worth a look on
// the span current in the request.
func (t *Telemetry) event(ctx context.Context, e ginjwt.Event) {
	switch e.Kind {
	case ginjwt.LoggedIn:
		t.logins.Add(ctx, 1)
	case ginjwt.LoginFailed:
		code := semconv.ErrorTypeKey.String(errorCode(e.Err))
		t.loginFailures.Add(ctx, 1, metric.WithAttributes(code))
		spanEvent(ctx, "ginjwt.login_failed", code)
	case ginjwt.AccessRefreshed:
		t.refreshes.Add(ctx, 1, metric.WithAttributes(RefreshKindKey.String("refresh")))
	case ginjwt.RefreshUpdated:
		t.refreshes.Add(ctx, 1, metric.WithAttributes(RefreshKindKey.String("update")))
	case ginjwt.RefreshReuseDetected:
		t.reuse.Add(ctx, 1)
		spanEvent(ctx, "ginjwt.refresh_reuse_detected")
	case ginjwt.TokenRevoked, ginjwt.SessionRevoked:
		kind := "token"
		switch {
		case e.Kind == ginjwt.SessionRevoked && e.SessionID != "":
			kind = "session"
		case e.Kind == ginjwt.SessionRevoked:
			kind = "user"
		}
		attrs := []attribute.KeyValue{RevocationKindKey.String(kind), RevocationReasonKey.String(revocationReason(e.Reason))}
		t.revocations.Add(ctx, 1, metric.WithAttributes(attrs...))
		spanEvent(ctx, "ginjwt."+e.Kind.String(), attrs...)
	case ginjwt.RegistrationFailed:
		t.regFailures.Add(ctx, 1)
	}
}

// spanEvent adds an event to the span current in ctx, if it records.
func spanEvent(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(name, trace.WithAttributes(attrs...))
	}
}

// revocationReason bounds a revocation's reason to ginjwt's own: an
// application's reason (Auth.RevokeSession) may be anything.
func revocationReason(reason string) string {
	switch reason {
	case registry.ReasonExpired, registry.ReasonLogout, registry.ReasonRotated,
		registry.ReasonReuse, registry.ReasonOnRefresh, registry.ReasonCutOff:
		return reason
	}
	return "other"
}

// errorCode is the stable code err is answered with (ginjwt.StatusOf):
// internal_error for errors ginjwt does not know.
func errorCode(err error) string {
	_, code := ginjwt.StatusOf(err)
	return code
}
