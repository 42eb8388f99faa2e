package ginjwt

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// feedBody is the answer of GET {Prefix}/revocations.
type feedBody struct {
	// Revocations are the log entries after the cursor, in ID order.
	Revocations []feedEntry `json:"revocations"`
	// Next is the cursor to ask with next time.
	Next int64 `json:"next"`
	// More is true when the answer is full: ask again at once.
	More bool `json:"more"`
	// Resync is true when the cursor cannot be continued: drop every entry
	// held and read a snapshot (since=0).
	Resync bool `json:"resync"`
}

// feedEntry is one revocation log entry as the feed publishes it; its
// members are registry.Revocation's JSON, which a client decodes it into.
// Times keep their microseconds: a legacy cut-off is ordered by them.
type feedEntry struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Subject    string    `json:"subject"`
	Generation int64     `json:"generation,omitempty"`
	At         time.Time `json:"at"`
	Until      time.Time `json:"until"`
	Reason     string    `json:"reason,omitempty"`
}

// revocations is GET /revocations?since=<cursor>: the revocation feed that
// client services follow, authenticated by a service credential, never by
// a user's token. since is the last log ID read (0 or absent: a snapshot
// of every entry that still matters).
func (a *Auth) revocations(c *gin.Context) {
	if !a.service.authorized(c.Request) {
		AbortWithError(c, ErrServiceUnauthorized)
		return
	}
	since := int64(0)
	if s := c.Query("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			AbortWithError(c, withDetail(ErrBadRequest, "since must be a revocation log ID (a whole number, 0 or more)"))
			return
		}
		since = n
	}
	page, err := a.registry.Feed(c.Request.Context(), since, a.cfg.Service.FeedPageSize)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	body := feedBody{Revocations: make([]feedEntry, 0, len(page.Entries)), Next: page.Next, More: page.More, Resync: page.Resync}
	for _, r := range page.Entries {
		body.Revocations = append(body.Revocations, feedEntry{ID: r.ID, Kind: string(r.Kind), Subject: r.Subject,
			Generation: r.Generation, At: r.At.UTC(), Until: r.Until.UTC(), Reason: r.Reason})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, body)
}
