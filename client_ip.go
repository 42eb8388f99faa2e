package ginjwt

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/clientip"
)

// proxies resolves the client of a request. By default through
// Config.Transport.TrustedProxies (the clientip.Resolver); when Mount was
// given a *gin.Engine, through the engine, exactly as its c.ClientIP()
// does: its trusted proxies, TrustedPlatform, RemoteIPHeaders and
// ForwardedByClientIP (see [proxies.adopt]).
type proxies struct {
	*clientip.Resolver
	// engine, when set, is the engine whose configuration decides.
	engine *gin.Engine
	// peers caches whether the engine trusts a peer address, for
	// X-Forwarded-Proto; see trusted.
	peers *peerCache
	// service, when client services are configured, lets a trusted one
	// forward its client's facts.
	service *serviceAuth
}

// Probe addresses: an engine that trusts both trusts every peer, which is
// gin's default (gin.New and gin.Default trust 0.0.0.0/0 and ::/0).
var (
	probeV4     = netip.MustParseAddr("203.0.113.1")
	probeV6     = netip.MustParseAddr("2001:db8::1")
	probeClient = "192.0.2.255"
)

// adopt settles whose proxy configuration ginjwt follows on the engine e
// that Mount was given, without changing what the application set:
//
//   - Config.Transport.TrustedProxies set, the engine still trusting every
//     peer (gin's default): the list is applied to the engine, so that
//     c.ClientIP() agrees, and ginjwt follows the engine.
//   - Config.Transport.TrustedProxies set and the engine configured too
//     (SetTrustedProxies): an error; the proxies are set in one place.
//   - Not set, the engine configured (SetTrustedProxies, TrustedPlatform):
//     ginjwt follows the engine, as c.ClientIP() does.
//   - Not set, the engine at gin's default: ginjwt believes no forwarding
//     header (anyone could forge one to dodge the per-IP login limit or
//     fake a device's address) and leaves the engine as it is, with a
//     warning, since c.ClientIP() then believes them.
func (p *proxies) adopt(e *gin.Engine, list []string, log *slog.Logger) error {
	trustsAll := engineTrusts(e, probeV4) && engineTrusts(e, probeV6)
	switch {
	case len(list) > 0 && !trustsAll:
		return errors.New("ginjwt: Config.Transport.TrustedProxies is set and so is the engine's SetTrustedProxies: set the trusted proxies in one place (the engine's alone is followed when Config.Transport.TrustedProxies is empty)")
	case len(list) > 0:
		if err := e.SetTrustedProxies(list); err != nil {
			return fmt.Errorf("ginjwt: Config.Transport.TrustedProxies: %w", err)
		}
	case trustsAll && e.TrustedPlatform == "" && e.ForwardedByClientIP:
		log.Warn("ginjwt: the gin engine believes X-Forwarded-For from every peer (gin's default), so c.ClientIP() can be forged; ginjwt uses the peer address. Call engine.SetTrustedProxies with your proxies (or nil), or set Config.Transport.TrustedProxies")
		return nil
	}
	p.engine, p.peers = e, &peerCache{}
	return nil
}

// engineTrusts reports whether e believes the forwarding headers of a
// request from peer: a request of peer's forwarding a probe address is
// resolved to it.
func engineTrusts(e *gin.Engine, peer netip.Addr) bool {
	c := gin.CreateTestContextOnly(nil, e)
	c.Request = &http.Request{RemoteAddr: net.JoinHostPort(peer.String(), "1"), Header: http.Header{}}
	for _, h := range e.RemoteIPHeaders {
		c.Request.Header.Set(h, probeClient)
	}
	return c.ClientIP() == probeClient
}

// facts are what is recorded of the request of c.
func (p proxies) facts(c *gin.Context) RequestFacts {
	r := c.Request
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	var facts RequestFacts
	if p.engine != nil {
		facts.ClientIP = clientip.Canonical(c.ClientIP())
		if facts.ClientIP != clientip.Canonical(c.RemoteIP()) {
			facts.ForwardedFor = clientip.Chain(r)
		}
	} else {
		facts.ClientIP, facts.ForwardedFor = p.Resolve(r)
	}
	facts.UserAgent = ua
	if p.service != nil {
		facts = p.service.forwarded(r, facts)
	}
	return facts
}

// trusted reports whether the peer addr is a trusted proxy, whose
// X-Forwarded-Proto is believed.
func (p proxies) trusted(addr netip.Addr) bool {
	if p.engine == nil {
		return p.Trusted(addr)
	}
	return p.peers.get(addr, func() bool { return engineTrusts(p.engine, addr) })
}

// peerCache remembers the engine's verdict on up to maxPeers addresses; past
// them, the engine is asked each time (a few microseconds).
type peerCache struct {
	m sync.Map // netip.Addr → bool
	n atomic.Int32
}

const maxPeers = 4096

func (pc *peerCache) get(addr netip.Addr, ask func() bool) bool {
	if v, ok := pc.m.Load(addr); ok {
		return v.(bool)
	}
	ok := ask()
	// Load first: once full, the count stays put (an Add per request would
	// wrap around after 2^31 of them and start storing again).
	if pc.n.Load() < maxPeers && pc.n.Add(1) <= maxPeers {
		pc.m.Store(addr, ok)
	}
	return ok
}
