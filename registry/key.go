package registry

import "encoding/base64"

// key is a token or session ID as ginjwt issues them — 128 random bits,
// 22 characters of unpadded base64url — held as its 16 bytes: a map key
// that is a quarter of the size of a string's, holds no pointer for the
// collector to follow, and copies the ID out of the token it came from, so
// nothing keeps a request's decoded payload alive.
type key [16]byte

// keyLen is the length of a key's text.
const keyLen = 22

// b64 maps a base64url character to its 6 bits, and anything else to 0xFF.
var b64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// parseKey returns the key s spells, when s is exactly 22 characters of
// base64url whose last character carries no stray bits: the one spelling
// of 16 bytes, so that parseKey and key.String are inverses and two
// different strings never share a key. Any other ID (an application's
// own, a test's "s1") is not a key; callers keep those by their string.
func parseKey(s string) (k key, ok bool) {
	if len(s) != keyLen {
		return k, false
	}
	var bad byte
	// 5 groups of 4 characters make 15 bytes; the last 2 characters make
	// the 16th byte and 4 bits that must be zero.
	for g := range 5 {
		a, b, c, d := b64[s[4*g]], b64[s[4*g+1]], b64[s[4*g+2]], b64[s[4*g+3]]
		bad |= a | b | c | d
		k[3*g] = a<<2 | b>>4
		k[3*g+1] = b<<4 | c>>2
		k[3*g+2] = c<<6 | d
	}
	a, b := b64[s[20]], b64[s[21]]
	bad |= a | b
	k[15] = a<<2 | b>>4
	// Every valid value is below 64: 0xFF is the only one with bit 6 set.
	if bad&0x40 != 0 || b&0x0F != 0 {
		return key{}, false
	}
	return k, true
}

// String is the key's text: what parseKey read.
func (k key) String() string { return base64.RawURLEncoding.EncodeToString(k[:]) }
