package ginjwt

import (
	"net/http"

	"github.com/ginjwt/ginjwt/internal/clientip"
)

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

// proxies are Config.Transport.TrustedProxies, through which the client of a request
// is resolved.
type proxies struct {
	*clientip.Resolver
	// service, when client services are configured, lets a trusted one
	// forward its client's facts.
	service *serviceAuth
}

// facts are what is recorded of the request r.
func (p proxies) facts(r *http.Request) RequestFacts {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	ip, chain := p.Resolve(r)
	facts := RequestFacts{ClientIP: ip, ForwardedFor: chain, UserAgent: ua}
	if p.service != nil {
		facts = p.service.forwarded(r, facts)
	}
	return facts
}
