package ginjwt

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxies resolves client addresses the way gin does with trusted proxies:
// the X-Forwarded-For (then X-Real-IP) header counts only when the peer is
// trusted, and its chain is walked from the nearest hop while hops are
// trusted too. With no trusted proxies the peer address is the client, and a
// forged header changes nothing.
type proxies struct {
	prefixes []netip.Prefix
}

func newProxies(list []string) (*proxies, error) {
	p := &proxies{}
	for _, s := range list {
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
		p.prefixes = append(p.prefixes, prefix.Masked())
	}
	return p, nil
}

func (p *proxies) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, prefix := range p.prefixes {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// RequestFacts are what ginjwt records of the request behind an event.
type RequestFacts struct {
	// ClientIP is the client's address, through the trusted proxies.
	ClientIP string
	// ForwardedFor is the X-Forwarded-For chain when the peer is a trusted
	// proxy, nearest hop last: its entries that are IP addresses.
	ForwardedFor []string
	// UserAgent is the User-Agent header (its first 2 KiB).
	UserAgent string
}

// maxUserAgent bounds the User-Agent kept in events: real ones are a few
// hundred bytes, and the rest of a huge one is noise nobody should store.
const maxUserAgent = 2048

// facts resolves the client of r.
func (p *proxies) facts(r *http.Request) RequestFacts {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	f := RequestFacts{UserAgent: ua}
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		f.ClientIP = host
		return f
	}
	f.ClientIP = peer.Unmap().String()
	if len(p.prefixes) == 0 || !p.trusted(peer) {
		return f
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		chain := splitChain(xff)
		f.ForwardedFor = addresses(chain)
		if ip, ok := p.walk(chain); ok {
			f.ClientIP = ip
		}
		return f
	}
	if real := strings.TrimSpace(r.Header.Get("X-Real-IP")); real != "" {
		if addr, err := netip.ParseAddr(real); err == nil {
			f.ClientIP = addr.Unmap().String()
		}
	}
	return f
}

// walk returns the first untrusted address from the right of the chain, the
// leftmost one when all are trusted; ok is false when an entry is not an
// address, and the peer is then taken as the client, as gin does.
func (p *proxies) walk(chain []string) (string, bool) {
	for i := len(chain) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(chain[i])
		if err != nil {
			return "", false
		}
		if i == 0 || !p.trusted(addr) {
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
