package ginjwt

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/ginjwt/ginjwt/users"
)

// Service configures ginjwt's part in the remote mode, where client
// services (package remote) trust one auth service. On the auth service it
// sets who the client services are and what they are told; on a client
// service, package remote sets Revocations and nothing else is used.
// A zero Service turns the remote mode off.
type Service struct {
	// Credentials are the service credentials client services present in
	// the X-Service-Credential header: random strings of at least 32
	// bytes, compared in constant time. A request that presents one may
	// read the revocation feed and any user, and have the client's IP
	// address and User-Agent it forwards recorded as the request's own.
	// Several, so that one can be rotated: add the new one, move the
	// clients to it, remove the old. Default none: the revocation feed is
	// not served, and forwarded request facts are ignored.
	Credentials []string
	// UserView writes the user that GET {Prefix}/users/me and /users/:id
	// answer with, and that client services copy (easyjwt's
	// USER_MODEL_SERIALIZER): the fields to show and data of the
	// application's own (an access group, per-service permissions). The
	// value is marshalled as JSON; an error fails the request (500, or 503
	// when it wraps ErrUnavailable). Default: the users.User fields
	// without password material.
	UserView func(ctx context.Context, u *users.User) (any, error)
	// FeedPageSize is the most entries one answer of the revocation feed
	// carries; a reader with more to read asks again at once. Default
	// 1000, at most 10000.
	FeedPageSize int
	// Revocations, on a client service, is the revocation set that
	// decides — instead of a token registry, which a client service does
	// not have — whether a verified token still stands. Package remote sets
	// it; an application has no reason to.
	Revocations Revocations
	// KeyMissing, on a client service, is called when a token names a key
	// the set lacks: it may replace the set ([Auth.SetKeys]) and reports
	// whether the set changed since the call began, in which case the
	// token is verified once more. Bounding how often it fetches is its
	// business: every token with an unknown kid calls it. Package remote
	// sets it.
	KeyMissing func() bool
}

// Revocations tells whether verified tokens are revoked, for an Auth
// without a token registry of its own (a client service of the remote
// mode).
type Revocations interface {
	// Check returns nil when the token stands; an error wrapping
	// ErrTokenRevoked when it, its session or its user was revoked; an
	// error wrapping ErrRemoteUnavailable when it cannot tell (the
	// revocations it holds are too old). token is the raw token, claims
	// its verified claims (read-only).
	Check(ctx context.Context, token string, claims *Claims) error
}

// The headers of service requests.
const (
	// ServiceCredentialHeader carries a client service's credential.
	ServiceCredentialHeader = "X-Service-Credential"
	// ServiceClientIPHeader and ServiceUserAgentHeader carry, on a request
	// a client service forwards, its client's address and User-Agent. They
	// count only beside a valid credential.
	ServiceClientIPHeader  = "X-Service-Client-Ip"
	ServiceUserAgentHeader = "X-Service-User-Agent"
)

// minCredentialLen is the shortest service credential accepted.
const minCredentialLen = 32

// maxCredentialLen bounds a presented credential: a longer one is refused
// without hashing it.
const maxCredentialLen = 512

// resolve fills defaults and checks the credentials.
func (s *Service) resolve(def Service) error {
	for i, c := range s.Credentials {
		if len(c) < minCredentialLen || len(c) > maxCredentialLen {
			return fmt.Errorf("ginjwt: Config.Service.Credentials[%d] is %d bytes; between %d and %d are needed (random)", i, len(c), minCredentialLen, maxCredentialLen)
		}
	}
	if s.FeedPageSize < 0 || s.FeedPageSize > 10000 {
		return fmt.Errorf("ginjwt: Config.Service.FeedPageSize must be between 1 and 10000, got %d", s.FeedPageSize)
	}
	if s.FeedPageSize == 0 {
		s.FeedPageSize = def.FeedPageSize
	}
	return nil
}

// serviceAuth checks service credentials. The zero value (nil) accepts
// none.
type serviceAuth struct {
	sums [][sha256.Size]byte
}

func newServiceAuth(creds []string) *serviceAuth {
	if len(creds) == 0 {
		return nil
	}
	s := &serviceAuth{}
	for _, c := range creds {
		s.sums = append(s.sums, sha256.Sum256([]byte(c)))
	}
	return s
}

// authorized reports whether r presents a valid service credential. The
// comparison takes the same time whichever credential matches, or none:
// both sides are hashed first, so not even the length is compared early.
func (s *serviceAuth) authorized(r *http.Request) bool {
	if s == nil {
		return false
	}
	v := r.Header.Values(ServiceCredentialHeader)
	if len(v) != 1 || len(v[0]) > maxCredentialLen {
		return false
	}
	sum := sha256.Sum256([]byte(v[0]))
	ok := 0
	for i := range s.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], s.sums[i][:])
	}
	return ok == 1
}

// forwarded returns the request facts a trusted client service forwards,
// when r presents a valid credential.
func (s *serviceAuth) forwarded(r *http.Request, facts RequestFacts) RequestFacts {
	if r.Header.Get(ServiceCredentialHeader) == "" || !s.authorized(r) {
		return facts
	}
	if ip, err := netip.ParseAddr(r.Header.Get(ServiceClientIPHeader)); err == nil {
		facts.ClientIP, facts.ForwardedFor = ip.Unmap().String(), nil
	}
	if ua := r.Header.Get(ServiceUserAgentHeader); ua != "" {
		facts.UserAgent = ua[:min(len(ua), maxUserAgent)]
	}
	return facts
}

// checkRevocations asks Config.Service.Revocations about a verified token.
func (a *Auth) checkRevocations(ctx context.Context, token string, c *Claims) error {
	err := a.cfg.Service.Revocations.Check(ctx, token, c)
	if err != nil && !tokenError(err) && !errors.Is(err, ErrRemoteUnavailable) {
		return fmt.Errorf("%w: %w", ErrRemoteUnavailable, err)
	}
	return err
}
