package ginjwt

import "github.com/gin-gonic/gin"

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

// RequestFacts returns what ginjwt records of the request of c: the client
// address as ginjwt resolves it (see Config.Transport.TrustedProxies), the
// forwarded chain and the User-Agent.
func (a *Auth) RequestFacts(c *gin.Context) RequestFacts { return a.proxies.facts(c) }

// maxUserAgent bounds the User-Agent kept in events: real ones are a few
// hundred bytes, and the rest of a huge one is noise nobody should store.
const maxUserAgent = 2048
