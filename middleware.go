package ginjwt

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/users"
)

// authState is what Authenticate learned of a request: the verified claims,
// or why the presented token was refused.
type authState struct {
	auth   *Auth
	claims *Claims
	err    error

	userOnce sync.Once
	user     *users.User
	userErr  error
}

type stateKey struct{}

// Authenticate returns the authentication middleware that Mount installs. It
// never aborts: it verifies the access token the request presents, and
// records either its claims (see [ClaimsFrom]) or why it was refused (see
// [AuthError]). [RequireLogin] and [RequirePerms] decide what to do about it.
//
// The token comes from the Authorization header ("Bearer <token>", the
// scheme in any case) or, in the cookie modes and only without such a
// header, from the access cookie(s); an unsafe request authenticated by
// cookies must pass the CSRF check too. A refresh token is never accepted as
// an access token.
// With the token registry, a revoked token — or one of a revoked session, or
// issued before its user's cut-off — is refused from memory, without a
// database query.
func (a *Auth) Authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		rc := &requestContext{Context: c.Request.Context()}
		rc.state.auth = a
		rc.state.claims, rc.state.err = a.authenticate(c)
		c.Request = c.Request.WithContext(rc)
		c.Next()
	}
}

// requestContext is the request's context carrying the authentication
// outcome: one allocation for both.
type requestContext struct {
	context.Context
	state authState
}

// Value returns the request's authState for stateKey, and asks the parent
// context for anything else.
func (rc *requestContext) Value(key any) any {
	if key == (stateKey{}) {
		return &rc.state
	}
	return rc.Context.Value(key)
}

// authenticate returns the verified claims of the request's access token,
// or why there are none.
func (a *Auth) authenticate(c *gin.Context) (*Claims, error) {
	r := c.Request
	now := a.now()
	e, fromCookie := a.cachedAccess(r, now)
	var claims *Claims
	var token string
	if e != nil {
		claims, token = e.claims, e.token
		if claims.external {
			if fromCookie {
				return nil, withDetail(ErrTokenInvalid, "a token of another issuer is accepted as a Bearer token only")
			}
			return claims, nil
		}
	} else {
		var err error
		token, fromCookie, err = a.accessToken(c)
		if err != nil {
			return nil, err
		}
		if token == "" {
			if a.cfg.SessionLogin.on() {
				return a.authenticateSession(c, now)
			}
			return nil, ErrTokenMissing
		}
		if a.cache != nil {
			a.cache.missed(token)
		}
		if len(a.issuers) > 0 && !fromCookie {
			if s := a.issuerOf(token); s != nil {
				return a.verifyExternal(r.Context(), s, token, now)
			}
		}
		var key *signingKey
		claims, key, err = a.parseKey(token, now)
		if err == nil {
			err = requireType(claims, a.authTypes()...)
		}
		if err != nil {
			return nil, err
		}
		if a.cache != nil {
			e = a.cache.put(token, claims, key, now)
		}
	}
	if err := a.checkRevoked(r, token, claims); err != nil {
		return nil, err
	}
	if fromCookie && a.csrfOn() && unsafeMethod(r.Method) {
		if err := a.checkSessionCSRF(r, claims.SessionID, e); err != nil {
			return nil, err
		}
	}
	a.touch(claims, now)
	return claims, nil
}

// checkRevoked refuses a token the registry (or, in a client service, the
// central auth service's revocations) revoked.
func (a *Auth) checkRevoked(r *http.Request, token string, claims *Claims) error {
	if a.cfg.Service.Revocations != nil {
		return a.checkRevocations(r.Context(), token, claims)
	}
	if _, revoked, err := a.revoked(r.Context(), claims); err != nil {
		return err
	} else if revoked {
		return ErrTokenRevoked
	}
	return nil
}

// touch notes the session of claims as used at now, for its last-used time.
func (a *Auth) touch(claims *Claims, now time.Time) {
	if a.registry != nil {
		a.registry.TouchToken(claims.SessionID, claims.IssuedAt, now)
	}
}

// authTypes are the token types that authenticate requests.
func (a *Auth) authTypes() []TokenType {
	if a.cfg.Tokens.Sliding {
		return []TokenType{SlidingToken}
	}
	return []TokenType{AccessToken}
}

func stateFrom(ctx context.Context) *authState {
	st, _ := ctx.Value(stateKey{}).(*authState)
	return st
}

// ClaimsFrom returns the verified claims of the request's access token; ok
// is false when the request is not authenticated. The claims are read-only:
// the verified-token cache shares them between the requests that present
// the same token.
func ClaimsFrom(c *gin.Context) (claims *Claims, ok bool) {
	return ClaimsFromContext(c.Request.Context())
}

// ClaimsFromContext is [ClaimsFrom] for code that has only the request's
// context.Context.
func ClaimsFromContext(ctx context.Context) (claims *Claims, ok bool) {
	if st := stateFrom(ctx); st != nil && st.err == nil {
		return st.claims, true
	}
	return nil, false
}

// AuthError returns why the request is not authenticated: an error wrapping
// ErrTokenMissing, ErrTokenExpired, ErrTokenInvalid, …; nil when it is.
// Handlers that serve both anonymous and logged-in callers use it.
func AuthError(c *gin.Context) error {
	st := stateFrom(c.Request.Context())
	if st == nil {
		return errNotInstalled
	}
	return st.err
}

// UserFrom returns the user the request's token belongs to, loaded from the
// user store on the first call in a request and kept for the rest of it; ok
// is false when the request is not authenticated, the user no longer exists,
// the store failed (which is logged), or the token is of another issuer
// (Config.Tokens.Issuers: use ClaimsFrom). Claims need no database: prefer
// [ClaimsFrom] when they suffice.
func UserFrom(c *gin.Context) (u *users.User, ok bool) {
	return UserFromContext(c.Request.Context())
}

// UserFromContext is [UserFrom] for code that has only the request's
// context.Context.
func UserFromContext(ctx context.Context) (u *users.User, ok bool) {
	st := stateFrom(ctx)
	if st == nil || st.err != nil || st.auth.users == nil || st.claims.external {
		return nil, false // a token of another issuer: its user ID is that issuer's
	}
	st.userOnce.Do(func() {
		st.user, st.userErr = st.auth.users.Find(ctx, st.claims.UserID)
		if st.userErr != nil && !errors.Is(st.userErr, users.ErrNotFound) {
			st.auth.log.ErrorContext(ctx, "ginjwt: loading the request's user", "user_id", st.claims.UserID, "error", st.userErr)
		}
	})
	return st.user, st.userErr == nil
}

// errNotInstalled is the answer of RequireLogin on a route the middleware
// does not cover: a set-up mistake, reported loudly to the application.
var errNotInstalled = withDetail(ErrTokenMissing, "authentication middleware is not installed on this route")

var notInstalledOnce sync.Once

// RequireLogin returns middleware that lets through only requests the
// authentication middleware authenticated, and answers the others 401 with
// the precise code: token_missing, token_invalid, token_expired,
// token_not_yet_valid, token_revoked or token_type_invalid (403 csrf_failed
// for a cookie request that failed its CSRF check).
func RequireLogin() gin.HandlerFunc {
	return func(c *gin.Context) {
		if requireLogin(c) != nil {
			c.Next()
		}
	}
}

// requireLogin returns the claims of an authenticated request, or answers
// the request and returns nil.
func requireLogin(c *gin.Context) *Claims {
	st := stateFrom(c.Request.Context())
	if st == nil {
		notInstalledOnce.Do(func() {
			_ = c.Error(errors.New("ginjwt: RequireLogin on a route the authentication middleware does not cover: call Mount (or Use(auth.Authenticate())) before registering the route"))
		})
		AbortWithError(c, errNotInstalled)
		return nil
	}
	if st.err != nil {
		AbortWithError(c, st.err)
		return nil
	}
	return st.claims
}

// RequirePerms returns middleware that lets through only authenticated
// requests whose token grants every one of perms (a superuser's grants them
// all). It answers 401 as [RequireLogin] does, and 403 permission_denied when
// a permission is missing. The check reads the token's claims: no database.
func RequirePerms(perms ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		claims := requireLogin(c)
		if claims == nil {
			return
		}
		if !claims.HasPerms(perms...) {
			AbortWithError(c, ErrPermissionDenied)
			return
		}
		c.Next()
	}
}
