// Package otelginjwt reports what ginjwt does to OpenTelemetry: metrics made
// from its events and its [ginjwt.Stats], and spans around logins, refreshes
// and token registrations.
//
// It is a Go module of its own (github.com/ginjwt/ginjwt/otelginjwt), so an
// application that does not want OpenTelemetry never downloads it: ginjwt
// itself depends on no OpenTelemetry package.
//
// # Setting it up
//
// Build a [Telemetry] with [New], let it wrap the configuration's hooks
// with [Telemetry.Configure] before [ginjwt.Mount] (spans, and the
// registration's duration), then hand it the [ginjwt.Auth] with
// [Telemetry.Instrument] (every other metric):
//
//	tel, err := otelginjwt.New(otelginjwt.Options{}) // the global providers
//	cfg := ginjwt.Config{SigningKey: key, DB: db}
//	tel.Configure(&cfg)
//	auth, err := ginjwt.Mount(r, cfg)
//	stop, err := tel.Instrument(auth)
//	defer stop()
//
// # Metrics
//
// The instrumentation scope is [ScopeName]. No attribute carries a user name,
// a user ID, a session ID or an IP address: every attribute takes one of the
// few values listed here.
//
//	name                                kind                        unit           attributes
//	ginjwt.logins                       counter                     {login}        -
//	ginjwt.login.failures               counter                     {login}        error.type
//	ginjwt.refreshes                    counter                     {refresh}      ginjwt.refresh.kind
//	ginjwt.refresh.reuse_detections     counter                     {detection}    -
//	ginjwt.revocations                  counter                     {revocation}   ginjwt.revocation.kind, ginjwt.revocation.reason
//	ginjwt.registration.duration        histogram                   s              ginjwt.registration.kind, error.type (failed attempts)
//	ginjwt.registration.failures        counter                     {registration} -
//	ginjwt.registration.queue.depth     observable up-down counter  {registration} -
//	ginjwt.registration.queue.limit     observable up-down counter  {registration} -
//	ginjwt.token_cache.lookups          observable counter          {lookup}       ginjwt.token_cache.result
//	ginjwt.token_cache.entries          observable up-down counter  {token}        -
//
// What they count:
//
//   - ginjwt.logins: successful logins (the LoggedIn event: the login
//     endpoint and Auth.Login).
//   - ginjwt.login.failures: refused logins (LoginFailed), by the stable
//     error code of the answer: invalid_credentials or too_many_requests. A
//     login that ends 503 because the database is down is not a failure.
//   - ginjwt.refreshes: access tokens issued from a refresh or sliding token
//     (AccessRefreshed, ginjwt.refresh.kind "refresh") and pairs issued by
//     the update endpoint (RefreshUpdated, "update").
//   - ginjwt.refresh.reuse_detections: rotated-out refresh tokens presented
//     again, each of which revoked its session (RefreshReuseDetected).
//   - ginjwt.revocations: TokenRevoked ("token") and SessionRevoked events:
//     "session" for one session, "user" for a log-out-everywhere cut-off. The
//     reason is one of ginjwt's (logout, reuse_detected, expired,
//     user_cut_off, rotated, expired_on_refresh) or "other" for a reason an
//     application passed to Auth.RevokeSession. Cut-offs the user store
//     makes itself (a password change, a deactivation) emit no event and are
//     not counted.
//   - ginjwt.registration.duration: each attempt at running the
//     registration steps (inside the registration's transaction; the commit
//     is not included), by pipeline kind: obtained, refreshed, updated,
//     manual (other kinds: "other"). Needs [Telemetry.Configure].
//   - ginjwt.registration.failures: background registrations that failed
//     for good (the RegistrationFailed event). With the registration
//     journal, which Registry.Async uses, a failing registration stays
//     journaled and is replayed instead, and ginjwt emits no such event:
//     watch ginjwt.registration.duration's error.type for failed attempts.
//   - ginjwt.registration.queue.depth and .limit: the registrations waiting
//     in the background queue and its capacity (Stats.RegistrationsQueued,
//     Stats.RegistrationQueueSize); reported only with Registry.Async.
//   - ginjwt.token_cache.lookups: the middleware's lookups in the
//     verified-token cache, "hit" or "miss" (Stats.CacheHits,
//     Stats.CacheMisses). The hit rate is rate(hit) / rate(hit + miss).
//   - ginjwt.token_cache.entries: the tokens the cache holds.
//
// # Spans
//
// [Telemetry.Configure] wraps the built-in endpoint handlers (and any
// wrapper the configuration already had) in a span each:
//
//	ginjwt.login      POST {prefix}/token
//	ginjwt.refresh    POST {prefix}/token/refresh
//	ginjwt.update     POST {prefix}/token/update
//	ginjwt.register   each attempt at the registration steps
//
// The handler spans take their parent from the request's context (a span an
// otelgin or otelhttp middleware started), or else from the request's
// headers through the propagator (W3C traceparent by default); a span with
// no local parent is of kind server, the others internal. They carry
// http.request.method, http.route and http.response.status_code. A
// request answered with an error gets status Error, with the answer's
// stable error code (token_expired, invalid_credentials, …) as the status
// description and as error.type; nothing the client sent is recorded. A
// refused login adds the event "ginjwt.login_failed", a reuse detection
// "ginjwt.refresh_reuse_detected", a revocation "ginjwt.session_revoked" or
// "ginjwt.token_revoked" (with their bounded attributes) to the span
// current in the request.
//
// ginjwt.register is a child of the span of the request that issued the
// tokens, also when it runs later in the background (the parent may have
// ended by then); a registration replayed from the journal starts a trace of
// its own. It carries ginjwt.registration.kind and
// ginjwt.registration.tokens, and on failure status Error with the error's
// code (unavailable when the database is down, internal_error otherwise).
package otelginjwt
