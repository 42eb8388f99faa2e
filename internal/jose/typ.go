package jose

import "strings"

// The media types ginjwt writes in the typ header, without the
// "application/" prefix (RFC 7515 §4.1.9 recommends omitting it). They tell
// an access token from a refresh token before any claim is read (explicit
// typing, RFC 8725 §3.11), so a service holding only the JWKS can refuse a
// refresh token presented as an access token.
const (
	// TypAccess is RFC 9068's type of JWT access tokens; ginjwt's access
	// and sliding tokens carry it.
	TypAccess = "at+jwt"
	// TypRefresh is the type of ginjwt's refresh tokens.
	TypRefresh = "refresh+jwt"
	// TypLegacy is what ginjwt wrote in every token before it typed them
	// apart (RFC 7519 §5.1's "JWT").
	TypLegacy = "JWT"
)

// SameType reports whether typ, the value of a typ header, names the media
// type want, given without "application/" (one of the Typ constants). Media
// types compare without regard to ASCII case (RFC 2045 §5.1, RFC 8725
// §3.11), and a value without a "/" stands for "application/" + value (RFC
// 7515 §4.1.9): "AT+JWT" and "application/at+jwt" are TypAccess, and
// "text/at+jwt" or "at+jwt; x=1" are not.
func SameType(typ, want string) bool {
	if slash := strings.IndexByte(typ, '/'); slash >= 0 {
		if !equalFoldASCII(typ[:slash], "application") {
			return false
		}
		typ = typ[slash+1:]
	}
	return equalFoldASCII(typ, want)
}

// equalFoldASCII is strings.EqualFold for ASCII: no other letter folds to
// an ASCII one ("\u017f" LONG S is not "s" in a media type).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
