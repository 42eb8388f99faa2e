package otelginjwt

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ginjwt/ginjwt"
)

// The names of the handler spans.
const (
	spanLogin   = "ginjwt.login"
	spanRefresh = "ginjwt.refresh"
	spanUpdate  = "ginjwt.update"
)

// traced runs next inside a span named name: the request's context carries
// the span while next runs, so ginjwt's events, subscribers and the
// registration pipeline see it.
func (t *Telemetry) traced(name string, next gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		req := c.Request
		ctx := req.Context()
		if !trace.SpanContextFromContext(ctx).IsValid() {
			ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(req.Header))
		}
		kind := trace.SpanKindInternal
		if parent := trace.SpanContextFromContext(ctx); !parent.IsValid() || parent.IsRemote() {
			kind = trace.SpanKindServer // the first span of this process in the trace
		}
		ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(
			semconv.HTTPRequestMethodKey.String(req.Method), semconv.HTTPRoute(c.FullPath())))
		w := &codeWriter{ResponseWriter: c.Writer}
		c.Writer, c.Request = w, req.WithContext(ctx)
		defer func() {
			c.Writer, c.Request = w.ResponseWriter, req
			if p := recover(); p != nil {
				span.SetAttributes(semconv.ErrorTypeKey.String("panic"))
				span.SetStatus(codes.Error, "panic")
				span.End()
				panic(p)
			}
			status := w.Status()
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 400 {
				code := w.code(status)
				span.SetAttributes(semconv.ErrorTypeKey.String(code))
				span.SetStatus(codes.Error, code)
			}
			span.End()
		}()
		next(c)
	}
}

// maxErrorBody bounds what codeWriter keeps of an error answer: ginjwt's
// are {"error": code, "message": text}, well under it.
const maxErrorBody = 1024

// codeWriter keeps the start of an error answer's body, to read the stable
// error code from it.
type codeWriter struct {
	gin.ResponseWriter
	body []byte
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.Status() >= 400 && len(w.body) < maxErrorBody {
		w.body = append(w.body, b[:min(len(b), maxErrorBody-len(w.body))]...)
	}
	return w.ResponseWriter.Write(b)
}

func (w *codeWriter) WriteString(s string) (int, error) {
	if w.Status() >= 400 && len(w.body) < maxErrorBody {
		w.body = append(w.body, s[:min(len(s), maxErrorBody-len(w.body))]...)
	}
	return w.ResponseWriter.WriteString(s)
}

// code is the stable error code of the answer: the "error" member of
// ginjwt's JSON error body when it names one of ginjwt's codes, else the
// status as a number ("500"), so that nothing a client typed, nor an
// application's free text, becomes an attribute.
func (w *codeWriter) code(status int) string {
	var body ginjwt.ErrorBody
	if json.Unmarshal(w.body, &body) == nil && knownCodes[body.Error] {
		return body.Error
	}
	return strconv.Itoa(status)
}

// knownCodes are ginjwt's stable error codes, read from its own table.
var knownCodes = func() map[string]bool {
	m := map[string]bool{"internal_error": true}
	for _, err := range []error{
		ginjwt.ErrBadRequest, ginjwt.ErrInvalidCredentials, ginjwt.ErrTokenMissing, ginjwt.ErrTokenInvalid,
		ginjwt.ErrTokenExpired, ginjwt.ErrTokenNotYetValid, ginjwt.ErrTokenRevoked, ginjwt.ErrTokenTypeInvalid,
		ginjwt.ErrCSRFFailed, ginjwt.ErrPermissionDenied, ginjwt.ErrNotFound, ginjwt.ErrBodyTooLarge,
		ginjwt.ErrTooManyRequests, ginjwt.ErrUnavailable,
	} {
		_, code := ginjwt.StatusOf(err)
		m[code] = true
	}
	return m
}()
