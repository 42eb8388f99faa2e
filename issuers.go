package ginjwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// TokenVerifier verifies the access tokens of another issuer (an OIDC
// provider such as Keycloak or Auth0), so that a ginjwt service accepts them
// next to its own: set it in Config.Tokens.Issuers. remote.NewIssuer is the
// implementation for issuers that publish a JWKS.
//
// The authentication middleware reads the unverified iss claim of a token
// presented as "Bearer <token>" only to choose the verifier whose Issuer it
// equals; a token whose iss is none of them is verified as ginjwt's own.
// Tokens of other issuers are accepted from the Authorization header only,
// never from ginjwt's cookies.
type TokenVerifier interface {
	// Issuer is the iss claim of the tokens this verifier verifies,
	// exactly. It is called once, by New, and must not be empty.
	Issuer() string
	// Verify checks token (signature, algorithm, issuer, audience, times)
	// and returns its claims, of Type AccessToken. A refusal wraps one of
	// ErrTokenInvalid, ErrTokenExpired, ErrTokenNotYetValid,
	// ErrTokenTypeInvalid; an error that wraps ErrUnavailable means the
	// verifier could not decide (its keys could not be fetched yet) and is
	// answered 503. Any other error is answered as ErrTokenInvalid. It is
	// called once per token: the verified-token cache then holds the claims
	// until exp (or until a [KeyChangeNotifier]'s keys change), and the
	// Auth's token registry is never consulted for them.
	Verify(ctx context.Context, token string) (*Claims, error)
}

// KeyChangeNotifier is implemented by a [TokenVerifier] whose keys may
// change (a JWKS fetched again). New calls NotifyKeyChange once with fn;
// the verifier calls fn after its keys changed, and the tokens it verified
// before are verified again when they next arrive.
type KeyChangeNotifier interface {
	NotifyKeyChange(fn func())
}

// issuerSlot is one TokenVerifier of Config.Tokens.Issuers.
type issuerSlot struct {
	iss string
	v   TokenVerifier
	// key stands for the verifier's current keys in the verified-token
	// cache's entries: replaced (and the old one marked removed) when they
	// change, so the entries it verified are dropped.
	key atomic.Pointer[signingKey]
}

// startIssuers takes Config.Tokens.Issuers.
func (a *Auth) startIssuers() {
	for _, v := range a.cfg.Tokens.Issuers {
		s := &issuerSlot{iss: v.Issuer(), v: v}
		s.key.Store(&signingKey{})
		if n, ok := v.(KeyChangeNotifier); ok {
			n.NotifyKeyChange(func() { s.key.Swap(&signingKey{}).removed.Store(true) })
		}
		a.issuers = append(a.issuers, s)
	}
}

// issuerOf returns the slot of the verifier whose Issuer is token's
// unverified iss; nil when none is, or when the token is not a JWS whose
// payload is a JSON object. Nothing else is read from the token.
func (a *Auth) issuerOf(token string) *issuerSlot {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok || len(payload) > maxTokenLen {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	// A map, not a struct: encoding/json matches struct fields without
	// regard to case ("ISS"), the verifiers match the key exactly.
	var p map[string]json.RawMessage
	if json.Unmarshal(raw, &p) != nil || len(p["iss"]) == 0 {
		return nil
	}
	var iss string
	if json.Unmarshal(p["iss"], &iss) != nil {
		return nil
	}
	for _, s := range a.issuers {
		if s.iss == iss {
			return s
		}
	}
	return nil
}

// verifyExternal verifies a token of another issuer with its verifier
// and keeps the claims in the verified-token cache.
func (a *Auth) verifyExternal(ctx context.Context, s *issuerSlot, token string, now time.Time) (*Claims, error) {
	key := s.key.Load() // before Verify: a change of keys during it drops the entry
	claims, err := s.v.Verify(ctx, token)
	if err != nil {
		if !tokenError(err) && classify(err).err == nil {
			err = fmt.Errorf("%w: %w", ErrTokenInvalid, err)
		}
		return nil, err
	}
	if claims == nil || claims.Type != AccessToken || claims.UserID == "" || claims.ExpiresAt.IsZero() || claims.Issuer != s.iss {
		return nil, withDetail(ErrTokenInvalid, "the issuer's verifier returned claims without an access token type, user, exp or its issuer")
	}
	own := *claims // the verifier's value is its own: mark a copy
	claims = &own
	claims.external = true
	if claims.raw == nil {
		_, rest, _ := strings.Cut(token, ".")
		payload, _, _ := strings.Cut(rest, ".")
		claims.raw, _ = base64.RawURLEncoding.DecodeString(payload) // for Claims.Decode
	}
	if a.cache != nil {
		a.cache.put(token, claims, key, now)
	}
	return claims, nil
}

// External reports whether the claims are of a token of another issuer,
// verified by a [TokenVerifier] of Config.Tokens.Issuers: ginjwt's
// registry knows nothing of it, and ginjwt's own endpoints (refresh,
// verify, sessions, users, expire) refuse it.
func (c *Claims) External() bool { return c.external }

// requireOwnLogin is requireLogin for ginjwt's own endpoints, which act on
// the caller's ginjwt user and sessions: a token of another issuer is
// refused there (its user ID is that issuer's).
func requireOwnLogin(c *gin.Context) *Claims {
	claims := requireLogin(c)
	if claims != nil && claims.external {
		AbortWithError(c, withDetail(ErrTokenTypeInvalid, "this endpoint takes a token of this service, not of another issuer"))
		return nil
	}
	return claims
}
