// Package remote is the client-service side of ginjwt's remote mode: many
// services trust one auth service, where the users and their passwords
// live (django-easyjwt's shape, without its round trip per request).
//
// # The auth service
//
// A plain [ginjwt.Mount] with an asymmetric key (its JWKS is served at
// {Prefix}/jwks.json), the token registry (Config.DB), and
// Config.Service: the client services' credentials, which open the
// revocation feed ({Prefix}/revocations) to them, and optionally a UserView
// that chooses what the client services learn of a user.
//
// # A client service
//
// [Mount] registers the auth service's endpoints on the client service and
// forwards them: POST {Prefix}/token, /token/refresh, /token/verify,
// /token/logout, and the sessions endpoints. Forwarded requests carry the
// client service's credential and its client's address and User-Agent, so
// the auth service's device registry and login throttle see the real
// client. The pair the auth service answers is delivered in the client
// service's own transport mode: JSON, one cookie, or two cookies with CSRF
// (Config.Mode, Cookies, CSRF).
//
// Verification is local: the middleware that Mount installs is ginjwt's,
// with the auth service's public keys, fetched from its JWKS at start and
// every KeyRefresh; a token naming an unknown kid causes at most one fetch
// per KeyCooldown, shared by concurrent requests; a failed fetch keeps the
// last good keys; only keys with use "sig" and an algorithm of
// Config.Algorithms are used. Each JWK is read by keyfunc
// (github.com/MicahParks/keyfunc/v3). ginjwt.RequireLogin, RequirePerms,
// ClaimsFrom and UserFrom work as on the auth service. A shared HMAC
// secret (Config.SharedSecret) can replace the JWKS; it is weaker, since
// every holder can mint tokens.
//
// # Tokens of other issuers
//
// [NewIssuer] verifies the access tokens of an OIDC provider (Keycloak,
// Auth0) with its JWKS, fetched by the same code and policy as the auth
// service's keys; it is a [ginjwt.TokenVerifier], for Config.Issuers here
// and ginjwt's Config.Tokens.Issuers on any ginjwt service. Its tokens are
// accepted as Bearer tokens next to the auth service's: their user is not
// fetched, the revocation feed does not apply to them, and the proxied
// endpoints do not take them. A JWKS that cannot be fetched at start does
// not fail NewIssuer; its tokens are answered 503 until a fetch succeeds.
//
// # Revocation
//
// The client service reads the revocation feed every FeedInterval (2 s)
// into a [registry.Set], the same in-memory set a token registry keeps of
// its own log: a session logged out, a token expired or a user cut off
// (log out everywhere, a password change, a deactivation) on the auth
// service is refused here within one interval (measured: p50 about 1 s,
// p99 about 2.05 s over 60 password changes). A logout through this
// service applies here at once. When the feed cannot be read for longer
// than MaxFeedLag (30 s), tokens issued before the last good read are
// refused with 503 remote_unavailable (fail closed); tokens issued after
// it are younger than the outage and still accepted. RemoteVerify adds a
// round trip per token (cached for RemoteVerifyTTL, never past exp) for
// zero lag.
//
// # Users
//
// After a login through this service, and on the first request of a user
// this process has not seen (again after the feed carries a cut-off of the
// user), the user is fetched from the auth service (GET
// {AuthPrefix}/users/:id, with the credential) and written to Config.DB
// by the [UserMapper], in one transaction: the remote record overwrites
// the local one. No other path creates a user here: the local copies have
// no password.
//
// # Failures
//
// The auth service down, slow, answering 5xx, a redirect, an oversized or
// malformed answer: the proxied endpoint answers 503, 504 or 502
// remote_unavailable and writes nothing locally. Tokens already issued
// keep verifying from the cached keys and the revocation set.
//
// Requests to the auth service are bounded by Config.Timeout (10 s) and
// MaxResponseBytes (1 MiB), never follow redirects, and verify TLS
// certificates against the system's roots or Config.RootCAs.
// InsecureSkipVerify exists for throwaway set-ups only.
package remote
