package ginjwt

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Cookies configures the cookies of the cookie modes. A zero field means its
// default.
//
// With Secure cookies (the default), the default names carry the prefixes
// browsers enforce, so that a sibling subdomain or a plain-http page cannot
// set or shadow them: "__Host-" for the cookies with Path=/ (Secure, no
// Domain), "__Secure-" for the refresh cookie, whose Path is narrower, and
// for every cookie when Domain is set. With Insecure the defaults have no
// prefix. A name set explicitly is used as given; one that starts with
// "__Host-" or "__Secure-" (in any case) must meet the prefix's rules, or
// the configuration is refused naming the field.
type Cookies struct {
	// AccessName is the access token's cookie in OneCookie mode. Default
	// "__Host-jwt_access" ("jwt_access" with Insecure).
	AccessName string
	// PayloadName and SignatureName are the two halves of the access token
	// in TwoCookies mode. Defaults "__Host-jwt_access_payload" (readable by
	// scripts) and "__Host-jwt_access_signature" (HttpOnly), without the
	// prefix with Insecure.
	PayloadName, SignatureName string
	// RefreshName is the refresh token's cookie: HttpOnly, sent only to
	// {Prefix}/token/…. Default "__Secure-jwt_refresh" ("jwt_refresh" with
	// Insecure); it can never be a __Host- cookie.
	RefreshName string
	// CSRFName is the CSRF token's cookie, readable by scripts. Default
	// "__Host-csrftoken" ("csrftoken" with Insecure).
	CSRFName string
	// Domain is the cookies' Domain attribute. Default none: host-only.
	// With a Domain the default names take "__Secure-", not "__Host-".
	Domain string
	// SameSite is the cookies' SameSite attribute. Default Lax.
	SameSite http.SameSite
	// Insecure drops the Secure attribute, for plain-http development on
	// loopback only: browsers would otherwise refuse or withhold the
	// cookies. Default off (cookies are Secure).
	Insecure bool
	// HostPrefix also prefixes the names set explicitly: "__Host-" for the
	// cookies with Path=/, "__Secure-" for the refresh cookie. Needs Secure
	// and no Domain.
	//
	// Deprecated: with Secure cookies the default names already carry the
	// prefixes; set the names you want in full instead.
	HostPrefix bool
}

// Cookie name prefixes (RFC 6265bis §4.1.3), which browsers enforce.
const (
	hostPrefix   = "__Host-"
	securePrefix = "__Secure-"
)

// resolve fills the defaults and checks the combination.
func (c *Cookies) resolve(def Cookies) error {
	orDefault(&c.SameSite, def.SameSite)
	if c.SameSite == http.SameSiteNoneMode && c.Insecure {
		return errors.New("ginjwt: Config.Transport.Cookies: SameSite=None needs Secure cookies (Insecure off)")
	}
	if c.Domain != "" {
		probe := http.Cookie{Name: "probe", Domain: c.Domain}
		if err := probe.Valid(); err != nil {
			return fmt.Errorf("ginjwt: Config.Transport.Cookies.Domain %q is not a cookie domain (a host name such as example.com)", c.Domain)
		}
	}
	if c.HostPrefix && (c.Insecure || c.Domain != "") {
		return errors.New("ginjwt: Config.Transport.Cookies.HostPrefix needs Secure cookies and no Domain")
	}
	// The prefix a cookie with Path=/ gets by default; the refresh cookie
	// has a narrower Path and can only be __Secure-.
	rootPrefix, refreshPrefix := "", ""
	if !c.Insecure {
		rootPrefix, refreshPrefix = hostPrefix, securePrefix
		if c.Domain != "" {
			rootPrefix = securePrefix
		}
	}
	for _, f := range []struct {
		field  string
		p      *string
		def    string
		prefix string
		root   bool // Path=/
	}{
		{"AccessName", &c.AccessName, "jwt_access", rootPrefix, true},
		{"PayloadName", &c.PayloadName, "jwt_access_payload", rootPrefix, true},
		{"SignatureName", &c.SignatureName, "jwt_access_signature", rootPrefix, true},
		{"RefreshName", &c.RefreshName, "jwt_refresh", refreshPrefix, false},
		{"CSRFName", &c.CSRFName, "csrftoken", rootPrefix, true},
	} {
		switch {
		case *f.p == "":
			*f.p = f.prefix + f.def
		case c.HostPrefix && f.root:
			*f.p = hostPrefix + *f.p
		case c.HostPrefix:
			*f.p = securePrefix + *f.p
		}
		if err := checkCookieName(*f.p, f.root, c); err != nil {
			return fmt.Errorf("ginjwt: Config.Transport.Cookies.%s: %s", f.field, err)
		}
	}
	return nil
}

// checkCookieName checks a cookie name: a token (RFC 6265 §4.1.1), and the
// rules of its prefix, if it has one: __Secure- needs Secure; __Host- also
// Path=/ (root) and no Domain.
func checkCookieName(name string, root bool, c *Cookies) error {
	for i := 0; i < len(name); i++ {
		if !cookieNameByte(name[i]) {
			return fmt.Errorf("%q is not a cookie name (letters, digits and !#$%%&'*+-.^_`|~ only)", name)
		}
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, strings.ToLower(hostPrefix)):
		if c.Insecure {
			return fmt.Errorf("%q: a __Host- cookie needs Secure (Insecure off)", name)
		}
		if c.Domain != "" {
			return fmt.Errorf("%q: a __Host- cookie cannot have a Domain", name)
		}
		if !root {
			return fmt.Errorf("%q: a __Host- cookie needs Path=/, and the refresh cookie's Path is the token endpoints' (use __Secure-)", name)
		}
	case strings.HasPrefix(lower, strings.ToLower(securePrefix)):
		if c.Insecure {
			return fmt.Errorf("%q: a __Secure- cookie needs Secure (Insecure off)", name)
		}
	}
	return nil
}

// cookieNameByte reports whether b may appear in a cookie name: an RFC 7230
// token character.
func cookieNameByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// accessFromCookies reassembles the access token from its cookie(s). In
// TwoCookies mode a missing half, or a half that is not shaped as a half
// (header.payload; a signature without dots), is token_invalid.
func (a *Auth) accessFromCookies(r *http.Request) (string, error) {
	ck := &a.cfg.Transport.Cookies
	if a.cfg.Mode == OneCookie {
		return cookieValue(r, ck.AccessName), nil
	}
	payload, sig := cookieValue(r, ck.PayloadName), cookieValue(r, ck.SignatureName)
	switch {
	case payload == "" && sig == "":
		return "", nil
	case payload == "" || sig == "":
		return "", withDetail(ErrTokenInvalid, "half of the access token's cookies is missing")
	case strings.Count(payload, ".") != 1 || strings.Contains(sig, "."):
		return "", withDetail(ErrTokenInvalid, "the access token's cookies are malformed")
	}
	return payload + "." + sig, nil
}

// cookieValue is the value of the named cookie, "" when absent or not a
// plain cookie value. Only the first of several cookies of that name
// counts. It scans the Cookie headers in place, allocating nothing (the
// request's cookies are read on every authenticated request).
func cookieValue(r *http.Request, name string) string {
	return scanCookies(r, name, true)
}

// firstCookie is the value of the first cookie named name, "" when absent,
// without cookieValue's checks of the value: a cookie whose value is not
// plain is returned, not skipped, and no length bound applies.
func firstCookie(r *http.Request, name string) string {
	return scanCookies(r, name, false)
}

// scanCookies finds the value of the named cookie in the Cookie headers,
// in place. With check, a value that is not a plain cookie value is
// skipped (as net/http does) and one longer than maxTokenLen is "".
func scanCookies(r *http.Request, name string, check bool) string {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			part = trimCookieSpace(part)
			// The name, then "=": a part that is longer than the name and
			// whose byte after it is neither '=' nor space is another cookie.
			if len(part) < len(name) || part[:len(name)] != name {
				continue
			}
			rest := part[len(name):]
			if len(rest) > 0 && rest[0] != '=' {
				k, _, _ := strings.Cut(part, "=")
				if trimCookieSpace(k) != name {
					continue
				}
				rest = part[len(k):]
			}
			if len(rest) == 0 {
				return "" // a bare name is a cookie without value, as net/http has it
			}
			v := rest[1:]
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if !check {
				return v
			}
			if !cookieSafe(v) {
				continue // not a cookie value: net/http skips it too
			}
			if len(v) > maxTokenLen {
				return ""
			}
			return v
		}
	}
	return ""
}

// trimCookieSpace trims the spaces, tabs, CRs and LFs around s.
func trimCookieSpace(s string) string {
	for len(s) > 0 && cookieSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && cookieSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func cookieSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// cookieSafe reports whether v holds only the bytes RFC 6265 allows in a
// cookie value.
func cookieSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if !cookieValueByte[v[i]] {
			return false
		}
	}
	return true
}

// cookieValueByte is the set of bytes RFC 6265 allows in a cookie value:
// printable ASCII but space, '"', ',', ';' and '\\'.
var cookieValueByte = func() (set [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		set[c] = c != '"' && c != ',' && c != ';' && c != '\\'
	}
	return set
}()

// deliver hands the tokens of p to a client of the cookie modes as cookies:
// the access token, the refresh token when one was issued, and the
// session's CSRF token. In JSON mode it does nothing: writePair puts the
// tokens in the body.
func (a *Auth) deliver(c *gin.Context, p *Issued) {
	if !a.cookieMode() {
		return
	}
	now := a.now()
	ck := &a.cfg.Transport.Cookies
	access := p.AccessClaims
	maxAge := access.ExpiresAt.Sub(now)
	if a.cfg.Mode == OneCookie {
		a.setCookie(c, ck.AccessName, p.Access, "/", maxAge, true)
	} else {
		dot := strings.LastIndexByte(p.Access, '.')
		a.setCookie(c, ck.PayloadName, p.Access[:dot], "/", maxAge, false)
		a.setCookie(c, ck.SignatureName, p.Access[dot+1:], "/", maxAge, true)
	}
	// The CSRF cookie lives as long as the session may.
	sessionEnd := now.Add(a.cfg.Tokens.RefreshTTL)
	if p.RefreshClaims != nil {
		sessionEnd = p.RefreshClaims.ExpiresAt
		a.setCookie(c, ck.RefreshName, p.Refresh, a.refreshPath, sessionEnd.Sub(now), true)
	}
	if a.csrfOn() {
		a.setCookie(c, ck.CSRFName, a.csrfToken(access.SessionID), "/", sessionEnd.Sub(now), false)
	}
}

// setCookie writes one cookie with the configured attributes.
func (a *Auth) setCookie(c *gin.Context, name, value, path string, maxAge time.Duration, httpOnly bool) {
	ck := &a.cfg.Transport.Cookies
	secs := int(maxAge / time.Second)
	if secs <= 0 {
		secs = -1 // Max-Age=0: delete
		value = ""
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, Domain: ck.Domain, MaxAge: secs,
		Secure: !ck.Insecure, HttpOnly: httpOnly, SameSite: ck.SameSite,
	})
}

// clearCookies expires every auth cookie, with the Path and Domain they
// were set with.
func (a *Auth) clearCookies(c *gin.Context) {
	ck := &a.cfg.Transport.Cookies
	for _, name := range []string{ck.AccessName, ck.PayloadName, ck.SignatureName, ck.CSRFName} {
		a.setCookie(c, name, "", "/", 0, name != ck.PayloadName && name != ck.CSRFName)
	}
	a.setCookie(c, ck.RefreshName, "", a.refreshPath, 0, true)
}
