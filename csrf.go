package ginjwt

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/ginjwt/ginjwt/internal/clientip"
)

// CSRF configures cross-site request forgery protection, which is on in
// the cookie modes (a request that authenticates with a Bearer header has
// nothing ambient to forge, and is never checked).
//
// An unsafe request (POST, PUT, PATCH, DELETE, …) that authenticates with
// cookies passes when its Origin is the server's own or trusted (or, absent,
// Sec-Fetch-Site is not cross-site and, over HTTPS, the Referer is), and its
// CSRF header equals both the CSRF cookie and the token bound to its
// session: an HMAC of the session ID, so a value an attacker plants as
// cookie and header both is refused. Failure is 403 csrf_failed, and the
// request changes nothing.
type CSRF struct {
	// Disabled turns the protection off. Only for APIs that no browser
	// calls with its cookies.
	Disabled bool
	// HeaderName is the header that carries the token. Default
	// "X-CSRF-Token".
	HeaderName string
	// TrustedOrigins are other origins ("https://app.example.com") allowed
	// to make cookie-authenticated requests, for front ends served
	// elsewhere.
	TrustedOrigins []string
	// Secret keys the HMAC that binds tokens to sessions. Default: derived
	// from the first signing key at start, so every instance with the same
	// keys agrees. Set it to keep CSRF tokens valid across a change of the
	// first key (32+ random bytes).
	Secret []byte
}

// resolve fills defaults and checks the trusted origins.
func (c *CSRF) resolve(def CSRF) error {
	orDefault(&c.HeaderName, def.HeaderName)
	if len(c.Secret) > 0 && len(c.Secret) < 32 {
		return fmt.Errorf("ginjwt: Config.Transport.CSRF.Secret is %d bytes; at least 32 are needed", len(c.Secret))
	}
	origins := make([]string, len(c.TrustedOrigins)) // the caller's slice stays as it was
	for i, o := range c.TrustedOrigins {
		norm, ok := normalizeOrigin(o)
		if !ok {
			return fmt.Errorf("ginjwt: Config.Transport.CSRF.TrustedOrigins[%d] must be scheme://host[:port], got %q", i, o)
		}
		origins[i] = norm
	}
	c.TrustedOrigins = origins
	return nil
}

// csrfOn reports whether CSRF protection applies.
func (a *Auth) csrfOn() bool { return a.cookieMode() && !a.cfg.Transport.CSRF.Disabled }

// csrfSecret derives the CSRF key from the first signing key, or returns
// the configured one. cookies says whether browsers' cookies are used (the
// cookie modes, session login): then, with no key that signs, the secret
// must be configured.
func csrfSecret(c CSRF, cookies bool, first Key) ([]byte, error) {
	if len(c.Secret) > 0 {
		return c.Secret, nil
	}
	material := first.Secret
	if material == nil && first.Private == nil {
		// No key signs: the keys are public, and nothing secret can be
		// derived from them.
		if cookies {
			return nil, errors.New("ginjwt: Config.Transport.CSRF.Secret is required in the cookie modes and with session login when no key signs (32+ random bytes, the same on every instance): it keys the CSRF tokens and the session cookies")
		}
		material = make([]byte, 32)
		_, _ = rand.Read(material)
	}
	if material == nil {
		der, err := x509.MarshalPKCS8PrivateKey(first.Private)
		if err != nil {
			return nil, fmt.Errorf("ginjwt: derive the CSRF secret: %w", err)
		}
		material = der
	}
	sum := sha256.Sum256(append([]byte("ginjwt csrf secret\x00"), material...))
	return sum[:], nil
}

// csrfToken is the CSRF token of a session.
func (a *Auth) csrfToken(sid string) string {
	st := a.csrfMACs.Get().(*macState)
	defer a.csrfMACs.Put(st)
	st.mac.Reset()
	st.mac.Write([]byte("ginjwt csrf\x00"))
	st.mac.Write(bytesOf(sid))
	st.sum = st.mac.Sum(st.sum[:0])
	return base64.RawURLEncoding.EncodeToString(st.sum)
}

// newCSRFMACs pools the HMAC states of csrfToken.
func newCSRFMACs(key []byte) *sync.Pool {
	return &sync.Pool{New: func() any {
		return &macState{mac: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
	}}
}

// unsafeMethod reports whether a method may change state.
func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// checkCSRF checks a cookie-authenticated unsafe request of session sid:
// where it comes from, then its token.
func (a *Auth) checkCSRF(r *http.Request, sid string) error {
	return a.checkSessionCSRF(r, sid, nil)
}

// checkSessionCSRF is checkCSRF with the session's CSRF token kept in e,
// the cache entry of the request's token, once computed; e may be nil.
func (a *Auth) checkSessionCSRF(r *http.Request, sid string, e *cacheEntry) error {
	if err := a.checkOrigin(r, true); err != nil {
		return err
	}
	var header string
	if v := r.Header[a.csrfHeader]; len(v) > 0 {
		header = v[0]
	} else if isForm(r) {
		var err error
		if header, err = a.csrfFormField(r); err != nil {
			return err
		}
	}
	cookie := cookieValue(r, a.cfg.Transport.Cookies.CSRFName)
	want := a.sessionCSRF(sid, e)
	if header == "" {
		return withDetail(ErrCSRFFailed, "the "+a.cfg.Transport.CSRF.HeaderName+" header (or the form field "+CSRFField+") is missing")
	}
	sameAsCookie := subtle.ConstantTimeCompare(bytesOf(header), bytesOf(cookie))
	bound := subtle.ConstantTimeCompare(bytesOf(header), bytesOf(want))
	if sameAsCookie&bound != 1 {
		return withDetail(ErrCSRFFailed, "the CSRF token does not match this session")
	}
	return nil
}

// sessionCSRF is the CSRF token of the session sid, computed once per
// cache entry e of a token of the session (nil: every time): the key and
// the session ID it is a MAC of never change.
func (a *Auth) sessionCSRF(sid string, e *cacheEntry) string {
	if e == nil {
		return a.csrfToken(sid)
	}
	if p := e.csrf.Load(); p != nil {
		return *p
	}
	t := a.csrfToken(sid)
	e.csrf.Store(&t)
	return t
}

// checkOrigin refuses requests from another origin than the server's own
// or a trusted one. Without an Origin header, a cross-site Sec-Fetch-Site
// is refused and, when strict, an HTTPS request needs a Referer of a
// trusted origin (as Django does).
func (a *Auth) checkOrigin(r *http.Request, strict bool) error {
	if origin := headerValue(r, "Origin"); origin != "" {
		if origin == "null" {
			return withDetail(ErrCSRFFailed, "requests from an opaque origin are refused")
		}
		if !a.trustedOrigin(origin, r) {
			return withDetail(ErrCSRFFailed, "the request comes from another origin")
		}
		return nil
	}
	if headerValue(r, "Sec-Fetch-Site") == "cross-site" {
		return withDetail(ErrCSRFFailed, "the request comes from another site")
	}
	if strict && a.requestScheme(r) == "https" {
		ref := r.Referer()
		u, err := url.Parse(ref)
		if ref == "" || err != nil || !a.trustedOrigin(u.Scheme+"://"+u.Host, r) {
			return withDetail(ErrCSRFFailed, "an HTTPS request without Origin needs a Referer of this site")
		}
	}
	return nil
}

// trustedOrigin reports whether origin is the request's own or a
// configured trusted one.
func (a *Auth) trustedOrigin(origin string, r *http.Request) bool {
	// The common case, "<scheme>://<Host>" exactly, without parsing.
	scheme := a.requestScheme(r)
	if len(origin) == len(scheme)+3+len(r.Host) && strings.HasPrefix(origin, scheme) &&
		origin[len(scheme):len(scheme)+3] == "://" && origin[len(scheme)+3:] == r.Host {
		return true
	}
	norm, ok := normalizeOrigin(origin)
	if !ok {
		return false
	}
	if own, ok := normalizeOrigin(scheme + "://" + r.Host); ok && norm == own {
		return true
	}
	for _, t := range a.cfg.Transport.CSRF.TrustedOrigins {
		if norm == t {
			return true
		}
	}
	return false
}

// requestScheme is "https" for a TLS request, or one a trusted proxy says
// arrived over TLS (X-Forwarded-Proto); "http" otherwise.
func (a *Auth) requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	var p string
	if v := r.Header["X-Forwarded-Proto"]; len(v) > 0 {
		p = strings.ToLower(strings.TrimSpace(v[0]))
	}
	if p != "https" && p != "http" {
		return "http" // whoever the peer is
	}
	if peer, _, ok := clientip.Peer(r); ok && a.proxies.trusted(peer) {
		return p
	}
	return "http"
}

// headerValue is the first value of the header named by the canonical key
// name, read without canonicalising it again.
func headerValue(r *http.Request, name string) string {
	if v := r.Header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// normalizeOrigin lower-cases scheme and host and drops the default port:
// "HTTPS://Example.com:443" and "https://example.com" are one origin.
func normalizeOrigin(origin string) (string, bool) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, true
}

// isForm reports whether r's body is an HTML form's.
func isForm(r *http.Request) bool {
	ct := headerValue(r, "Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// csrfFormField reads the CSRF token from the form field CSRFField of r's
// body, at most Config.Limits.MaxBodyBytes of it, and puts the body back for
// the handler: c.PostForm and ginjwt's own handlers read it as sent.
func (a *Auth) csrfFormField(r *http.Request) (string, error) {
	limit := a.cfg.Limits.MaxBodyBytes
	if r.ContentLength > limit {
		return "", ErrBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	// Whatever happens, the handler reads the body as it was sent.
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return "", withDetail(ErrBadRequest, "the form cannot be read")
	}
	if int64(len(body)) > limit {
		return "", withDetail(ErrBodyTooLarge, "a form over the body limit must send its CSRF token in the "+a.cfg.Transport.CSRF.HeaderName+" header")
	}
	mediaType, params, err := mime.ParseMediaType(headerValue(r, "Content-Type"))
	if err != nil {
		return "", withDetail(ErrBadRequest, "the Content-Type header is malformed")
	}
	var values []string
	if mediaType == "multipart/form-data" {
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(limit)
		if err != nil {
			return "", withDetail(ErrBadRequest, "the form is malformed")
		}
		defer func() { _ = form.RemoveAll() }()
		values = form.Value[CSRFField]
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", withDetail(ErrBadRequest, "the form is malformed")
		}
		values = form[CSRFField]
	}
	if len(values) > 1 {
		return "", withDetail(ErrCSRFFailed, "the form carries "+CSRFField+" twice")
	}
	if len(values) == 0 {
		return "", nil
	}
	return values[0], nil
}
