package otelginjwt

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ginjwt/ginjwt/pipeline"
)

// spanRegister is the name of the registration span.
const spanRegister = "ginjwt.register"

// pipeline wraps a Config.Registry.Pipeline function (nil: the defaults):
// the steps it returns run as one step inside a span, timed.
func (t *Telemetry) pipeline(next func([]pipeline.Step) []pipeline.Step) func([]pipeline.Step) []pipeline.Step {
	return func(defaults []pipeline.Step) []pipeline.Step {
		steps := defaults
		if next != nil {
			steps = next(defaults)
		}
		steps = slices.Clone(steps)
		return []pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
			return t.register(ctx, e, steps)
		}}
	}
}

// register runs steps on e in order, inside the ginjwt.register span, and
// records the attempt's duration. A step's error keeps its step number; a
// panic is recorded and passed on to the runner, which recovers it.
func (t *Telemetry) register(ctx context.Context, e *pipeline.Event, steps []pipeline.Step) (err error) {
	kind := RegistrationKindKey.String(registrationKind(e.Kind))
	ctx, span := t.tracer.Start(ctx, spanRegister, trace.WithAttributes(kind, RegistrationTokensKey.Int(len(e.Pairs))))
	start := time.Now()
	defer func() {
		p := recover()
		attrs := []attribute.KeyValue{kind}
		if p != nil || err != nil {
			code := "panic"
			if p == nil {
				code = errorCode(err)
			}
			attrs = append(attrs, semconv.ErrorTypeKey.String(code))
			span.SetAttributes(semconv.ErrorTypeKey.String(code))
			span.SetStatus(codes.Error, code)
		}
		t.regDuration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
		span.End()
		if p != nil {
			panic(p)
		}
	}()
	for i, step := range steps {
		if err := step(ctx, e); err != nil {
			return fmt.Errorf("step %d of %d: %w", i+1, len(steps), err)
		}
	}
	return nil
}

// registrationKind bounds a pipeline event's kind: an application running
// the pipeline by hand may name its own.
func registrationKind(k pipeline.EventKind) string {
	switch k {
	case pipeline.Obtained, pipeline.Refreshed, pipeline.Updated, pipeline.Manual:
		return string(k)
	}
	return "other"
}
