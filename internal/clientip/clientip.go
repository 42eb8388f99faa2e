// Package clientip resolves the client address of an HTTP request through
// trusted reverse proxies, the way gin does: the X-Forwarded-For (then
// X-Real-IP) header counts only when the peer is a trusted proxy, and its
// chain is walked from the nearest hop while hops are trusted too. With no
// trusted proxies the peer address is the client, and a forged header
// changes nothing.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses through a set of trusted proxies. Its
// zero value trusts no proxy. It is safe for concurrent use.
type Resolver struct {
	prefixes []netip.Prefix
}

// New returns a resolver that trusts the proxies of trusted: IP addresses
// or CIDR ranges. It fails with the parse error of the first entry that is
// neither.
func New(trusted []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trusted {
		var (
			prefix netip.Prefix
			err    error
		)
		if strings.Contains(s, "/") {
			prefix, err = netip.ParsePrefix(s)
		} else {
			var addr netip.Addr
			addr, err = netip.ParseAddr(s)
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		if err != nil {
			return nil, err
		}
		r.prefixes = append(r.prefixes, prefix.Masked())
	}
	return r, nil
}

// Trusted reports whether addr is a trusted proxy (an IPv4-mapped IPv6
// address as its IPv4 address).
func (r *Resolver) Trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, prefix := range r.prefixes {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// Resolve returns the client address of req, and its X-Forwarded-For chain
// when the peer is a trusted proxy: the chain's entries that are IP
// addresses, in canonical form, nearest hop last. A peer address that is
// not an IP address is returned as it is.
func (r *Resolver) Resolve(req *http.Request) (ip string, forwardedFor []string) {
	peer, host, ok := Peer(req)
	if !ok {
		return host, nil
	}
	ip = peer.Unmap().String()
	if len(r.prefixes) == 0 || !r.Trusted(peer) {
		return ip, nil
	}
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		chain := splitChain(xff)
		if client, ok := r.walk(chain); ok {
			ip = client
		}
		return ip, addresses(chain)
	}
	if real := strings.TrimSpace(req.Header.Get("X-Real-IP")); real != "" {
		if addr, err := netip.ParseAddr(real); err == nil {
			ip = addr.Unmap().String()
		}
	}
	return ip, nil
}

// Canonical returns the canonical form of the IP address s (an
// IPv4-mapped IPv6 address as its IPv4 address), or s when it is not one.
func Canonical(s string) string {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return addr.Unmap().String()
}

// Chain returns the X-Forwarded-For chain of req: its entries that are IP
// addresses, in canonical form, nearest hop last.
func Chain(req *http.Request) []string {
	return addresses(splitChain(req.Header.Values("X-Forwarded-For")))
}

// Peer returns the IP address of req's peer (RemoteAddr, with or without
// its port), and the host part as written; ok is false when that is not an
// IP address.
func Peer(req *http.Request) (addr netip.Addr, host string, ok bool) {
	host, _, err := net.SplitHostPort(strings.TrimSpace(req.RemoteAddr))
	if err != nil {
		host = req.RemoteAddr
	}
	addr, err = netip.ParseAddr(host)
	return addr, host, err == nil
}

// walk returns the first untrusted address from the right of the chain, the
// leftmost one when all are trusted; ok is false when an entry is not an
// address, and the peer is then taken as the client, as gin does.
func (r *Resolver) walk(chain []string) (string, bool) {
	for i := len(chain) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(chain[i])
		if err != nil {
			return "", false
		}
		if i == 0 || !r.Trusted(addr) {
			return addr.Unmap().String(), true
		}
	}
	return "", false
}

// addresses keeps the entries of a chain that are IP addresses, in their
// canonical form: what is recorded of a chain is never arbitrary text.
func addresses(chain []string) []string {
	var out []string
	for _, s := range chain {
		if addr, err := netip.ParseAddr(s); err == nil {
			out = append(out, addr.Unmap().String())
		}
	}
	return out
}

// maxChain bounds how many X-Forwarded-For entries are looked at.
const maxChain = 32

func splitChain(values []string) []string {
	var chain []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				chain = append(chain, part)
			}
		}
	}
	if len(chain) > maxChain {
		chain = chain[len(chain)-maxChain:]
	}
	return chain
}
