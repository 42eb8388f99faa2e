// Package ginjwt is JWT authentication for Gin: login, refresh, verify and
// logout endpoints, middleware that authenticates every request without a
// database round trip, permission checks, event hooks, and the helpers an
// application needs to log users in and out from views of its own.
//
// # Getting started
//
// Mount checks the configuration once, installs the authentication
// middleware and registers the endpoints under /auth (with the database
// package and its SQLite engine imported: _ "github.com/ginjwt/ginjwt/database/sqlite"):
//
//	db, _ := database.Open("sqlite:app.db")
//	_ = ginjwt.Migrate(ctx, db)
//	r := gin.New()
//	auth, err := ginjwt.Mount(r, ginjwt.Config{
//		SigningKey: []byte(os.Getenv("GINJWT_SIGNING_KEY")), // 32+ random bytes
//		DB:         db,
//	})
//	r.GET("/api/hello", ginjwt.RequireLogin(), hello)
//	r.GET("/api/admin", ginjwt.RequirePerms("admin"), admin)
//
// # Endpoints
//
// POST /auth/token trades {"username", "password"} (JSON or a form) for
// {"access", "refresh", "token_type", "expires_in"}. POST
// /auth/token/refresh trades a refresh token ({"refresh"} or
// Authorization: Bearer) for a new access token.
// POST /auth/token/verify answers 200 for a valid {"token"} and 401 with the
// reason otherwise. POST /auth/token/logout ends the session of the refresh
// token presented. GET /auth/jwks.json publishes the public keys, and
// GET /auth/users/me the caller's own user. Every path can be moved or left
// out ([Paths]) and every handler wrapped or replaced ([Handlers]).
// Answers that report an action done are a [ResultBody]; every time in an
// answer is RFC 3339 UTC to the second; [OpenAPI] returns the OpenAPI 3.1
// document of the endpoints.
//
// # Errors
//
// Every error answer is a JSON [ErrorBody] with a stable code: bad_request,
// invalid_credentials, token_missing, token_invalid, token_expired,
// token_not_yet_valid, token_revoked, token_type_invalid, csrf_failed,
// permission_denied, not_found, method_not_allowed, body_too_large,
// too_many_requests, unavailable, and for the remote mode
// service_unauthorized and remote_unavailable. A path under the prefix that is no
// endpoint is not_found, a wrong method method_not_allowed with Allow
// ([Auth.Unmatched]); paths outside it stay the application's. Each code
// has a sentinel error ([ErrTokenExpired], …) that errors.Is recognises, and
// [StatusOf] maps an error to its status and code.
//
// # Tokens and keys
//
// Tokens carry jti, sid (the session: the jti of its first refresh token),
// token_type, iat, exp, nbf, sub, and, when configured, iss and aud; the
// user claims are user_id, username, perms, staff and superuser, and
// Config.Tokens.ClaimsHook adds the application's own. Supported algorithms are
// [Algorithms]; a token verifies only when its kid names a key of the set and
// its alg is that key's algorithm, so "none" and algorithm confusion are
// refused. Several keys can verify at once while one signs: see [Key] and
// [Auth.RotateKey].
//
// # Transports
//
// [Config].Mode picks where tokens travel: [JSON] (bodies and the
// Authorization header), [OneCookie] or [TwoCookies] (HttpOnly cookies, the
// second splitting the access token so scripts can read its payload but not
// its signature), with CSRF protection bound to the session ([CSRF]).
//
// # Registry, revocation and devices
//
// With Config.DB every token is recorded as a tree in the application's
// database (package registry) through a registration pipeline (package
// pipeline), and any token, session or user can be revoked: the middleware
// learns of it from memory, without a query per request, at once in this
// instance and through LISTEN/NOTIFY or a resync in others. Refresh tokens
// can rotate with reuse detection. Registry.Devices records the browser and
// IP of every session (package device).
//
// # Middleware
//
// The authentication middleware never rejects a request: it records the
// verified [Claims] ([ClaimsFrom]) or why the token failed ([AuthError]).
// [RequireLogin] and [RequirePerms] decide, answering 401 or 403 with the
// precise code. [UserFrom] loads the user row on demand. Access tokens of
// other issuers (Keycloak, Auth0) are accepted too through
// Config.Tokens.Issuers (see [TokenVerifier]; remote.NewIssuer).
//
// # Events
//
// [Auth.Subscribe] registers a function for an [EventKind]: LoggedIn,
// LoginFailed, TokenObtained, AccessRefreshed, RefreshUpdated,
// TokenValidated, TokenRevoked, SessionRevoked, RefreshReuseDetected,
// LoggedOut, RegistrationFailed and NewDevice. Subscribers run in the
// request; a panic in one is recovered and logged.
//
// # Remote mode
//
// Many client services can trust one auth service: [Config.Service] names
// their credentials, opens the revocation feed (GET /auth/revocations)
// to them and shapes the user they copy ([Service.UserView]); package
// remote is the client side. A client service's Auth only verifies, with
// the auth service's public keys ([Auth.SetKeys]), and answers its proxied
// endpoints with [Auth.WriteTokens] and the helpers beside it, in any
// transport mode.
package ginjwt
