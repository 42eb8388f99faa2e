package otelginjwt_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/pipeline"
)

const (
	remoteTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	remoteParent = "00f067aa0ba902b7"
	traceparent  = "00-" + remoteTrace + "-" + remoteParent + "-01"
)

// only returns the one ended span named name.
func only(t *testing.T, f *fixture, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := f.ended(name)
	if len(spans) != 1 {
		t.Fatalf("%d %s spans, want 1", len(spans), name)
	}
	return spans[0]
}

// wantStatus checks a span's status code and description.
func wantStatus(t *testing.T, s sdktrace.ReadOnlySpan, code codes.Code, desc string) {
	t.Helper()
	if got := s.Status(); got.Code != code || got.Description != desc {
		t.Fatalf("%s status %v %q, want %v %q", s.Name(), got.Code, got.Description, code, desc)
	}
	if code == codes.Error && attr(s, "error.type") != desc {
		t.Fatalf("%s error.type %q, want %q", s.Name(), attr(s, "error.type"), desc)
	}
}

// childOf checks that s's parent is parent.
func childOf(t *testing.T, s, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Fatalf("%s's parent is %v, want %s %v", s.Name(), s.Parent().SpanID(), parent.Name(), parent.SpanContext().SpanID())
	}
}

func TestLoginSpanContinuesTheIncomingTrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, nil)
	f.user("alice")
	f.login("alice", "traceparent", traceparent)

	login := only(t, f, "ginjwt.login")
	if got := login.SpanContext().TraceID().String(); got != remoteTrace {
		t.Fatalf("login span in trace %s, want the incoming %s", got, remoteTrace)
	}
	if got := login.Parent(); got.SpanID().String() != remoteParent || !got.IsRemote() {
		t.Fatalf("login span's parent %v (remote %v), want the incoming %s", got.SpanID(), got.IsRemote(), remoteParent)
	}
	if login.SpanKind() != trace.SpanKindServer {
		t.Fatalf("login span kind %v, want server: no local span came before it", login.SpanKind())
	}
	wantStatus(t, login, codes.Unset, "")
	for k, v := range map[string]string{"http.request.method": "POST", "http.route": "/auth/token", "http.response.status_code": "200"} {
		if got := attr(login, k); got != v {
			t.Errorf("login span %s = %q, want %q", k, got, v)
		}
	}
	register := only(t, f, "ginjwt.register")
	childOf(t, register, login)
	wantStatus(t, register, codes.Unset, "")
	if register.SpanKind() != trace.SpanKindInternal || attr(register, "ginjwt.registration.kind") != "obtained" || attr(register, "ginjwt.registration.tokens") != "2" {
		t.Fatalf("register span: kind %v, attributes %v", register.SpanKind(), register.Attributes())
	}
}

func TestSpansUnderAnUpstreamSpan(t *testing.T) {
	t.Parallel()
	var f *fixture
	upstream := func(c *gin.Context) { // what otelgin does: a server span in the request's context
		ctx, span := f.tp.Tracer("upstream").Start(c.Request.Context(), "HTTP "+c.Request.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
	f = newFixture(t, nil, upstream, func(c *ginjwt.Config) { c.Tokens.AllowRefreshUpdate = true })
	f.user("alice")
	p := f.login("alice", "traceparent", traceparent) // ignored: the context has a span
	q := f.refresh("/auth/token/refresh", p.Refresh)
	f.refresh("/auth/token/update", q.Refresh)

	servers := f.ended("HTTP POST")
	if len(servers) != 3 {
		t.Fatalf("%d upstream spans, want 3", len(servers))
	}
	for i, name := range []string{"ginjwt.login", "ginjwt.refresh", "ginjwt.update"} {
		s := only(t, f, name)
		childOf(t, s, servers[i])
		if s.SpanKind() != trace.SpanKindInternal {
			t.Errorf("%s kind %v under a local span, want internal", name, s.SpanKind())
		}
		wantStatus(t, s, codes.Unset, "")
	}
	if got := servers[0].SpanContext().TraceID().String(); got == remoteTrace {
		t.Fatal("the headers overrode the span in the request's context")
	}
	registers := f.ended("ginjwt.register")
	if len(registers) != 3 {
		t.Fatalf("%d register spans, want 3", len(registers))
	}
	for i, kind := range []string{"obtained", "refreshed", "updated"} {
		if got := attr(registers[i], "ginjwt.registration.kind"); got != kind {
			t.Errorf("register span %d kind %q, want %q", i, got, kind)
		}
		childOf(t, registers[i], only(t, f, []string{"ginjwt.login", "ginjwt.refresh", "ginjwt.update"}[i]))
	}
}

// TestSpansRecordErrorCodesNotClientText checks failed logins and refreshes:
// status Error with the stable code, the events, and nothing the client
// typed anywhere in the spans.
func TestSpansRecordErrorCodesNotClientText(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, func(c *ginjwt.Config) { c.Tokens.ReuseGrace = -1 })
	f.user("alice")
	const evil = "<script>evil</script>"
	want(t, f.do("POST", "/auth/token", map[string]string{"username": evil, "password": evil}), 401, "invalid_credentials")
	failed := only(t, f, "ginjwt.login")
	wantStatus(t, failed, codes.Error, "invalid_credentials")
	if ev := failed.Events(); len(ev) != 1 || ev[0].Name != "ginjwt.login_failed" || len(ev[0].Attributes) != 1 || ev[0].Attributes[0].Value.Emit() != "invalid_credentials" {
		t.Fatalf("failed login span events %+v, want one ginjwt.login_failed with error.type", ev)
	}
	if got := attr(failed, "http.response.status_code"); got != "401" {
		t.Fatalf("status code attribute %q", got)
	}

	want(t, f.do("POST", "/auth/token/refresh", map[string]string{"refresh": evil}), 401, "token_invalid")
	wantStatus(t, only(t, f, "ginjwt.refresh"), codes.Error, "token_invalid")

	p := f.login("alice")
	f.refresh("/auth/token/refresh", p.Refresh)
	want(t, f.do("POST", "/auth/token/refresh", map[string]string{"refresh": p.Refresh}), 401, "token_revoked")
	refreshes := f.ended("ginjwt.refresh")
	reuse := refreshes[len(refreshes)-1]
	wantStatus(t, reuse, codes.Error, "token_revoked")
	var names []string
	for _, ev := range reuse.Events() {
		names = append(names, ev.Name)
	}
	if strings.Join(names, " ") != "ginjwt.refresh_reuse_detected ginjwt.session_revoked" {
		t.Fatalf("reuse span events %v", names)
	}
	if reason := reuse.Events()[1].Attributes; len(reason) != 2 || reason[1].Value.Emit() != "reuse_detected" {
		t.Fatalf("session_revoked event attributes %v", reason)
	}

	want(t, f.do("POST", "/auth/token", "not an object"), 400, "bad_request")
	logins := f.ended("ginjwt.login")
	wantStatus(t, logins[len(logins)-1], codes.Error, "bad_request")

	for _, s := range f.spans.Ended() {
		text := s.Name() + s.Status().Description
		for _, a := range s.Attributes() {
			text += " " + a.Value.Emit()
		}
		for _, ev := range s.Events() {
			text += " " + ev.Name
			for _, a := range ev.Attributes {
				text += " " + a.Value.Emit()
			}
		}
		if strings.Contains(text, "evil") || strings.Contains(text, "alice") {
			t.Fatalf("span %s carries client or user data: %s", s.Name(), text)
		}
	}
}

// TestRegistrationSpanErrors wraps an application's own pipeline and makes
// its step fail, then panic: the registration span and the login span
// carry the code, and the application's steps still run.
func TestRegistrationSpanErrors(t *testing.T) {
	t.Parallel()
	var mode atomic.Value
	mode.Store("")
	var ran atomic.Int32
	f := newFixture(t, nil, nil, func(c *ginjwt.Config) {
		c.Registry.Pipeline = func(defaults []pipeline.Step) []pipeline.Step {
			mine := func(ctx context.Context, e *pipeline.Event) error {
				ran.Add(1)
				switch mode.Load() {
				case "fail":
					return errors.New("the application's step failed for alice")
				case "panic":
					panic("the application's step panicked")
				}
				return nil
			}
			return append(defaults, mine)
		}
	})
	f.user("alice")
	f.login("alice")
	mode.Store("fail")
	want(t, f.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "pw-alice"}), 500, "internal_error")
	mode.Store("panic")
	want(t, f.do("POST", "/auth/token", map[string]string{"username": "alice", "password": "pw-alice"}), 500, "internal_error")
	if ran.Load() != 3 {
		t.Fatalf("the application's step ran %d times, want 3", ran.Load())
	}
	logins, registers := f.ended("ginjwt.login"), f.ended("ginjwt.register")
	if len(logins) != 3 || len(registers) != 3 {
		t.Fatalf("%d login and %d register spans, want 3 and 3", len(logins), len(registers))
	}
	for i, want := range []string{"", "internal_error", "panic"} {
		childOf(t, registers[i], logins[i])
		if want == "" {
			wantStatus(t, registers[i], codes.Unset, "")
			wantStatus(t, logins[i], codes.Unset, "")
			continue
		}
		wantStatus(t, registers[i], codes.Error, want)
		wantStatus(t, logins[i], codes.Error, "internal_error")
	}
	counts, _ := histogram(t, f.collect(), "ginjwt.registration.duration")
	equal(t, "ginjwt.registration.duration counts", counts, map[string]uint64{
		"ginjwt.registration.kind=obtained":                           1,
		"error.type=internal_error,ginjwt.registration.kind=obtained": 1,
		"error.type=panic,ginjwt.registration.kind=obtained":          1,
	})
}
