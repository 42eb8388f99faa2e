package ginjwt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/ginjwt/ginjwt/internal/jose"
	"github.com/ginjwt/ginjwt/pipeline"
)

// TokenType is the token_type claim.
type TokenType string

// The token types.
const (
	// AccessToken authenticates requests; short-lived (Config.Tokens.AccessTTL).
	AccessToken TokenType = "access"
	// RefreshToken obtains new access tokens at the refresh endpoint; it
	// never authenticates a request.
	RefreshToken TokenType = "refresh"
	// SlidingToken, with Config.Tokens.Sliding, does both: it authenticates until
	// exp and can be exchanged for a new one until refresh_exp.
	SlidingToken TokenType = "sliding"
)

// maxTokenLen bounds the size of a token ginjwt will look at; anything longer
// is rejected before any decoding.
const maxTokenLen = 8 << 10

// Claims are the verified contents of a token.
//
// The standard claims are typed fields; claims an application adds through
// Config.Tokens.ClaimsHook go into Extra when issuing, and are read back with
// [Claims.Decode] from a parsed token.
type Claims struct {
	ID        string    // jti: unique per token
	SessionID string    // sid: the jti of the session's first refresh token
	Type      TokenType // token_type
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf
	// RefreshExpiresAt is refresh_exp: how long a sliding token can be
	// exchanged for a new one. Zero for other types.
	RefreshExpiresAt time.Time
	// Generation is gen: the user's cut-off generation the session was
	// issued under. A cut-off (log out everywhere, a password change, a
	// deactivation) raises the user's generation in the registry, and
	// tokens of a lower one are refused. 0 without the registry.
	Generation int64
	Issuer     string   // iss, when Config.Tokens.Issuer is set
	Subject    string   // sub: the user's ID
	Audience   []string // aud, when Config.Tokens.Audience is set
	UserID     string   // user_id
	Username   string   // username
	Perms      []string // perms
	Staff      bool     // staff: the user is staff
	Superuser  bool     // superuser: the user holds every permission
	// Extra are further claims to write into a token being issued, flat
	// beside the standard ones. Their names may not be standard claim names.
	// Empty on parsed tokens: use Decode.
	Extra map[string]any

	raw []byte // the decoded payload of a parsed token
	// issuedNs is the sub-second part of the instant this process issued
	// the token (IssuedAt is that instant in whole seconds, as iat says):
	// the registry records the whole instant, so the ordering of a
	// session's tokens and the reuse grace window keep their precision.
	// 0 on parsed claims. An int32 in the struct's tail padding: Claims
	// stays in its allocation size class.
	issuedNs int32
	// external marks the claims of a token of another issuer, verified by
	// a TokenVerifier (see Claims.External).
	external bool
}

// HasPerms reports whether the token grants every one of perms. A superuser's
// token grants them all.
func (c *Claims) HasPerms(perms ...string) bool {
	if c.Superuser {
		return true
	}
	for _, p := range perms {
		if !slices.Contains(c.Perms, p) {
			return false
		}
	}
	return true
}

// Decode unmarshals the whole payload of a parsed token into v, for claims
// of the application's own. It fails on a Claims that was not parsed.
func (c *Claims) Decode(v any) error {
	if c.raw == nil {
		return errors.New("ginjwt: Decode needs claims parsed from a token")
	}
	return json.Unmarshal(c.raw, v)
}

// Expired reports whether the token's exp has passed at now.
func (c *Claims) Expired(now time.Time) bool { return !now.Before(c.ExpiresAt) }

// pipelineToken is the registry's view of the token. A sliding token
// expires, for the registry, when it can no longer be renewed: until then a
// revocation of it must hold.
func (c *Claims) pipelineToken() pipeline.Token {
	t := pipeline.Token{ID: c.ID, Type: string(c.Type), SessionID: c.SessionID, UserID: c.UserID, IssuedAt: c.issuedAt(), ExpiresAt: c.ExpiresAt, Generation: c.Generation}
	if c.RefreshExpiresAt.After(t.ExpiresAt) {
		t.ExpiresAt = c.RefreshExpiresAt
	}
	return t
}

// issuedAt is when the token was issued, as precisely as known: the
// instant this process issued it, or iat for a parsed token.
func (c *Claims) issuedAt() time.Time {
	return c.IssuedAt.Add(time.Duration(c.issuedNs))
}

// maxGeneration is the largest gen claim: float64 holds integers exactly
// up to 2^53.
const maxGeneration = 1 << 53

// maxNumericDate is the last second of year 9999; later dates are refused so
// conversions cannot overflow.
const maxNumericDate = 253402300799

// toNumericDate writes t as a NumericDate in whole seconds, rounded down:
// RFC 7519 §2 allows fractions, but verifiers that compare iat with the
// current second (PyJWT, jose's maxTokenAge) refuse a token whose iat is
// a fraction of a second ahead of it, and an exp rounded down is never
// later than configured. The result is an integer below 2^53, which
// encoding/json writes without a fraction or an exponent.
func toNumericDate(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix())
}

// fromNumericDate reads a NumericDate to the microsecond: float64 cannot
// carry more, and rounding makes 1800000000.123 read back as .123000.
func fromNumericDate(f float64) (time.Time, bool) {
	if f == 0 {
		return time.Time{}, true
	}
	if f < 0 || f > maxNumericDate || math.IsNaN(f) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), 0).Add(time.Duration(math.Round(frac*1e6)) * time.Microsecond), true
}

// marshal writes the payload JSON of c.
func (c *Claims) marshal() ([]byte, error) {
	w := jose.Payload{
		JTI: c.ID, SID: c.SessionID, Type: string(c.Type),
		IAT: toNumericDate(c.IssuedAt), EXP: toNumericDate(c.ExpiresAt), NBF: toNumericDate(c.NotBefore),
		RefreshEXP: toNumericDate(c.RefreshExpiresAt), Gen: float64(c.Generation),
		ISS: c.Issuer, SUB: c.Subject, AUD: jose.Audience(c.Audience),
		UserID: c.UserID, Username: c.Username, Perms: c.Perms, Staff: c.Staff, Superuser: c.Superuser,
	}
	b, err := json.Marshal(w)
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	var seen jose.Names
	for name := range c.Extra {
		// encoding/json matches keys without regard to case: "EXP" would
		// be exp to a reader decoding into a struct.
		if slices.ContainsFunc(jose.StandardClaims, func(r string) bool { return strings.EqualFold(r, name) }) {
			return nil, fmt.Errorf("ginjwt: Claims.Extra may not set the standard claim %q", name)
		}
		// The parser refuses such a payload as ambiguous (jose.DecodePayload).
		if !seen.Add(name) {
			return nil, fmt.Errorf("ginjwt: Claims.Extra has two claims named %q but for case", name)
		}
	}
	extra, err := json.Marshal(c.Extra)
	if err != nil {
		return nil, fmt.Errorf("ginjwt: Claims.Extra: %w", err)
	}
	// Splice {"a":1} and {"b":2} into {"a":1,"b":2}.
	out := make([]byte, 0, len(b)+len(extra))
	out = append(out, b[:len(b)-1]...)
	out = append(out, ',')
	return append(out, extra[1:]...), nil
}

// unmarshalClaims decodes a payload into Claims, keeping payload as raw.
func unmarshalClaims(payload []byte) (*Claims, error) {
	var w jose.Payload
	if err := jose.DecodePayload(payload, &w); err != nil {
		if errors.Is(err, jose.ErrAmbiguous) {
			return nil, withDetail(ErrTokenInvalid, "the payload gives a claim twice, or in another case")
		}
		return nil, withDetail(ErrTokenInvalid, "the payload is not a JSON object of the expected claims")
	}
	c := &Claims{
		ID: w.JTI, SessionID: w.SID, Type: TokenType(w.Type),
		Issuer: w.ISS, Subject: w.SUB, Audience: []string(w.AUD),
		UserID: w.UserID, Username: w.Username, Perms: w.Perms, Staff: w.Staff, Superuser: w.Superuser,
		raw: payload,
	}
	var ok [4]bool
	c.IssuedAt, ok[0] = fromNumericDate(w.IAT)
	c.ExpiresAt, ok[1] = fromNumericDate(w.EXP)
	c.NotBefore, ok[2] = fromNumericDate(w.NBF)
	c.RefreshExpiresAt, ok[3] = fromNumericDate(w.RefreshEXP)
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] {
		return nil, withDetail(ErrTokenInvalid, "a time claim is out of range")
	}
	if w.Gen < 0 || w.Gen > maxGeneration || w.Gen != math.Trunc(w.Gen) {
		return nil, withDetail(ErrTokenInvalid, "gen is not a generation")
	}
	c.Generation = int64(w.Gen)
	return c, nil
}

// newTokenID returns 128 random bits, base64url: a jti.
func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// b64 is the strict base64url of JWS: no padding, and no stray bits in the
// last character, so one signature has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// signClaims encodes and signs c with the current key.
func (a *Auth) signClaims(c *Claims) (string, error) {
	k := a.keys.Load().current
	payload, err := c.marshal()
	if err != nil {
		return "", err
	}
	header := k.headers[typOf(c.Type)]
	var sb strings.Builder
	sb.Grow(len(header) + 2 + b64.EncodedLen(len(payload)) + 700)
	sb.WriteString(header)
	sb.WriteByte('.')
	enc := base64.NewEncoder(base64.RawURLEncoding, &sb)
	_, _ = enc.Write(payload)
	_ = enc.Close()
	sig, err := k.sign([]byte(sb.String()))
	if err != nil {
		return "", fmt.Errorf("ginjwt: sign: %w", err)
	}
	sb.WriteByte('.')
	enc = base64.NewEncoder(base64.RawURLEncoding, &sb)
	_, _ = enc.Write(sig)
	_ = enc.Close()
	return sb.String(), nil
}

// tokenTyp is what a token's typ header says the token is.
type tokenTyp uint8

const (
	typNone    tokenTyp = iota // no typ, or one ginjwt never writes
	typAccess                  // at+jwt: an access or a sliding token
	typRefresh                 // refresh+jwt: a refresh token
	typLegacy                  // JWT: issued before tokens were typed; token_type decides
	typCount
)

// typOf is the typ ginjwt writes in tokens of type t. A sliding token
// authenticates requests, so it is an access token to any other verifier
// (RFC 9068); its token_type tells ginjwt that it may also be renewed.
func typOf(t TokenType) tokenTyp {
	if t == RefreshToken {
		return typRefresh
	}
	return typAccess
}

// parseTyp classifies the value of a typ header (see jose.SameType: case
// and an "application/" prefix do not matter).
func parseTyp(typ string) tokenTyp {
	switch {
	case jose.SameType(typ, jose.TypAccess):
		return typAccess
	case jose.SameType(typ, jose.TypRefresh):
		return typRefresh
	case jose.SameType(typ, jose.TypLegacy):
		return typLegacy
	}
	return typNone
}

// checkTyp refuses a token whose typ header does not say what its
// token_type claim says (explicit typing, RFC 8725 §3.11): the signature
// covers both, and a token whose two halves disagree was not made by
// ginjwt. A token without typ, or with one ginjwt never writes, is no
// ginjwt token either. Tokens typed JWT were issued before typing and are
// accepted for what their claim says, unless Config.Tokens.RefuseLegacyTyp.
func (a *Auth) checkTyp(typ tokenTyp, t TokenType) error {
	switch typ {
	case typNone:
		return withDetail(ErrTokenInvalid, "the header's typ is not at+jwt or refresh+jwt")
	case typLegacy:
		if a.cfg.Tokens.RefuseLegacyTyp {
			return withDetail(ErrTokenInvalid, "tokens typed JWT are no longer accepted")
		}
		return nil
	}
	if typ != typOf(t) {
		return withDetail(ErrTokenTypeInvalid, fmt.Sprintf("the header's typ does not fit a %s token", t))
	}
	return nil
}

// keyFor returns the key a token's header segment names, and what its typ
// says. The header must name a key of the set and that key's own
// algorithm; "crit" is refused since ginjwt understands no extension. The
// header segments of a key's own tokens are recognised by their bytes; any
// other is decoded strictly (see jose.DecodeHeader: exact, unique member
// names). The typ is only classified here: the claims layer checks it.
func (ks *keySet) keyFor(segment string) (*signingKey, tokenTyp, error) {
	if h, ok := ks.byHeader[segment]; ok {
		return h.key, h.typ, nil
	}
	if len(segment) > 1024 {
		return nil, typNone, withDetail(ErrTokenInvalid, "the header is too long")
	}
	raw, err := b64.DecodeString(segment)
	if err != nil {
		return nil, typNone, withDetail(ErrTokenInvalid, "the header is not base64url")
	}
	var h jose.Header
	if err := jose.DecodeHeader(raw, &h); err != nil {
		if errors.Is(err, jose.ErrAmbiguous) {
			return nil, typNone, withDetail(ErrTokenInvalid, "the header gives a parameter twice")
		}
		return nil, typNone, withDetail(ErrTokenInvalid, "the header is not a JSON object of string alg, kid and typ")
	}
	if h.Crit != nil {
		return nil, typNone, withDetail(ErrTokenInvalid, "the header has critical extensions ginjwt does not support")
	}
	if h.Alg == "" {
		return nil, typNone, withDetail(ErrTokenInvalid, "the header has no alg")
	}
	if strings.EqualFold(h.Alg, "none") {
		return nil, typNone, withDetail(ErrTokenInvalid, "unsigned tokens are not accepted")
	}
	k := ks.current
	if h.Kid != "" {
		k = ks.byID[h.Kid]
	}
	if k == nil {
		return nil, typNone, errUnknownKey
	}
	if h.Alg != k.alg {
		return nil, typNone, withDetail(ErrTokenInvalid, "the token's algorithm is not its key's")
	}
	return k, parseTyp(h.Typ), nil
}

// errUnknownKey refuses a token whose kid names no key of the set.
var errUnknownKey = withDetail(ErrTokenInvalid, "the token names an unknown key")

// parse verifies token's signature and decodes its claims, at the time of
// the configured clock. See parseAt.
func (a *Auth) parse(token string) (*Claims, error) { return a.parseAt(token, a.now()) }

// parseAt verifies token's signature and decodes its claims, checking them
// with checkClaims at now; on ErrTokenExpired and ErrTokenNotYetValid it
// also returns the (authentic) claims, so callers can tell whose token it
// was. The work is bounded by maxTokenLen whatever the input.
func (a *Auth) parseAt(token string, now time.Time) (*Claims, error) {
	c, _, err := a.parseKey(token, now)
	return c, err
}

// parseKey is parseAt that also returns the key that verified the token.
func (a *Auth) parseKey(token string, now time.Time) (*Claims, *signingKey, error) {
	if token == "" {
		return nil, nil, ErrTokenMissing
	}
	payload, k, typ, err := a.keys.Load().verifyJWS(token)
	if err == errUnknownKey && a.cfg.Service.KeyMissing != nil && a.cfg.Service.KeyMissing() {
		payload, k, typ, err = a.keys.Load().verifyJWS(token) // the set changed: once more
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := unmarshalClaims(payload)
	if err != nil {
		return nil, nil, err
	}
	err = a.checkClaims(c, now)
	timeOnly := errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrTokenNotYetValid)
	if err != nil && !timeOnly {
		return nil, nil, err
	}
	if terr := a.checkTyp(typ, c.Type); terr != nil {
		return nil, nil, terr
	}
	return c, k, err
}

// verifyJWS is the signature layer: it checks token, a JWS in compact
// serialization, against the key set and returns its decoded payload, the
// key that verified it and what its typ header says. It knows nothing of
// claims: the payload may be anything, including empty, and the typ any
// string. Every refusal is ErrTokenInvalid. The work is bounded by
// maxTokenLen whatever the input.
func (ks *keySet) verifyJWS(token string) ([]byte, *signingKey, tokenTyp, error) {
	if len(token) > maxTokenLen {
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "the token is too long")
	}
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		// Go's base64 decoder skips \r and \n (and refuses every other byte
		// outside the alphabet): refused here, so a token has one spelling.
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "the token has characters outside base64url")
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "a token has three dot-separated parts")
	}
	k, typ, err := ks.keyFor(h)
	if err != nil {
		return nil, nil, typNone, err
	}
	var sigBuf [512]byte // RSA-4096 signatures are the longest
	if b64.DecodedLen(len(s)) > len(sigBuf) {
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "the signature is too long")
	}
	n, err := b64.Decode(sigBuf[:], bytesOf(s))
	if err != nil {
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "the signature is not base64url")
	}
	if !k.verify(bytesOf(token[:len(h)+1+len(p)]), sigBuf[:n]) {
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "the signature does not verify")
	}
	payload := make([]byte, b64.DecodedLen(len(p)))
	n, err = b64.Decode(payload, bytesOf(p))
	if err != nil {
		return nil, nil, typNone, withDetail(ErrTokenInvalid, "the payload is not base64url")
	}
	return payload[:n], k, typ, nil
}

// bytesOf views s as bytes without copying, for functions that only read
// their argument (hashing, base64 decoding).
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// checkClaims validates the claims of an authentic token against the
// configuration and now, with Config.Tokens.Leeway on every time.
func (a *Auth) checkClaims(c *Claims, now time.Time) error {
	if c.ID == "" || c.SessionID == "" || c.UserID == "" || c.IssuedAt.IsZero() || c.ExpiresAt.IsZero() {
		return withDetail(ErrTokenInvalid, "a required claim (jti, sid, user_id, iat, exp) is missing")
	}
	switch c.Type {
	case AccessToken, RefreshToken:
	case SlidingToken:
		if c.RefreshExpiresAt.IsZero() {
			return withDetail(ErrTokenInvalid, "a sliding token needs refresh_exp")
		}
	default:
		return withDetail(ErrTokenInvalid, "token_type is missing or unknown")
	}
	if c.Subject != "" && c.Subject != c.UserID {
		return withDetail(ErrTokenInvalid, "sub and user_id disagree")
	}
	if a.cfg.Tokens.Issuer != "" && c.Issuer != a.cfg.Tokens.Issuer {
		return withDetail(ErrTokenInvalid, "the token is from another issuer")
	}
	if len(a.cfg.Tokens.Audience) > 0 && !slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.cfg.Tokens.Audience, aud) }) {
		return withDetail(ErrTokenInvalid, "the token is for another audience")
	}
	leeway := a.cfg.Tokens.Leeway
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return ErrTokenNotYetValid
	}
	if now.Add(leeway).Before(c.IssuedAt) {
		return withDetail(ErrTokenNotYetValid, "the token was issued in the future")
	}
	if !now.Before(c.ExpiresAt.Add(leeway)) {
		return ErrTokenExpired
	}
	return nil
}

// requireType checks a parsed token's type against the types accepted.
func requireType(c *Claims, want ...TokenType) error {
	if slices.Contains(want, c.Type) {
		return nil
	}
	return withDetail(ErrTokenTypeInvalid, fmt.Sprintf("a %s token is not accepted here", c.Type))
}

// ParseToken verifies token and returns its claims, for tokens that arrive
// outside an HTTP request (a WebSocket message, a job): the same checks as
// the middleware (signature, key and algorithm, times with leeway, issuer,
// audience) plus the token type when want is not empty. It does not consult
// the token registry.
func (a *Auth) ParseToken(token string, want ...TokenType) (*Claims, error) {
	c, err := a.parse(token)
	if err != nil {
		return nil, err
	}
	if len(want) > 0 {
		if err := requireType(c, want...); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// trimBearer is the bounded parse of an Authorization header: the scheme
// (compared without regard to case) and one token. ok is false when the
// header uses another scheme; err is set when it uses ours badly.
func trimBearer(header, scheme string) (token string, ok bool, err error) {
	if header == "" {
		return "", false, nil
	}
	if len(header) > maxTokenLen+len(scheme)+8 {
		return "", true, withDetail(ErrTokenInvalid, "the Authorization header is too long")
	}
	s, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(s, scheme) {
		return "", false, nil
	}
	token = strings.TrimLeft(rest, " ")
	if token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
		return "", true, withDetail(ErrTokenInvalid, "the Authorization header must be \""+scheme+" <token>\"")
	}
	return token, true, nil
}
