package throttle

import (
	"crypto/sha256"
	"net/netip"
	"strings"
)

// The prefixes of the three kinds of bucket key, so that a login name, an
// account and an address never share a count.
const (
	loginPrefix   = "a\x00"
	accountPrefix = "u\x00"
	ipPrefix      = "i\x00"
)

// loginKey is the bucket of a login name: lower-cased, and hashed when
// long, so a 64 KiB name costs 32 bytes of memory.
func loginKey(login string) string {
	return hashedKey(loginPrefix, strings.ToLower(strings.TrimSpace(login)))
}

// accountKey is the bucket of an account resolved by the user store.
func accountKey(id string) string { return hashedKey(accountPrefix, id) }

func hashedKey(prefix, s string) string {
	if len(s) > 64 {
		sum := sha256.Sum256([]byte(s))
		return prefix + "#" + string(sum[:])
	}
	return prefix + s
}

// ipKey is the bucket of a client address: IPv4 alone, IPv6 by its /64,
// since one client holds a whole /64 and could otherwise use a fresh
// address per attempt.
func ipKey(ip string) string {
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() && !addr.Is4In6() {
		p, _ := addr.Prefix(64)
		return ipPrefix + p.String()
	}
	return ipPrefix + ip
}
