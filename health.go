package ginjwt

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthTimeout bounds one health check: a database that takes longer to
// take one small write is as good as down to a load balancer.
const healthTimeout = 2 * time.Second

// HealthStatus is the JSON body of [Auth.Health].
type HealthStatus struct {
	// Status is "ok", or "unavailable" when the registry cannot write.
	Status string `json:"status"`
	// Registry is "ok", "unavailable", or "off" without the registry.
	Registry string `json:"registry"`
	// PendingRegistrations is how many asynchronous registrations are
	// journaled and not landed yet (-1 when it could not be counted).
	PendingRegistrations int64 `json:"pending_registrations"`
}

// Check reports whether ginjwt can serve logins, refreshes and
// revocations: with the registry, whether it can write to the database
// now (one small write, bounded by ctx and 2 s). Without the registry it
// always succeeds. Its error wraps ErrUnavailable.
func (a *Auth) Check(ctx context.Context) error {
	if a.registry == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if err := a.registry.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Health returns a handler for a load balancer's health check: 200 with a
// [HealthStatus] when [Auth.Check] passes, 503 with Retry-After when it does
// not — the instance then answers logins and refreshes 503 too, while
// requests with access tokens keep working from memory. Mount it where the
// load balancer looks:
//
//	r.GET("/healthz", auth.Health())
//
// It heals by itself: the first check after the database returns passes.
func (a *Auth) Health() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		st := HealthStatus{Status: "ok", Registry: "off"}
		if a.registry != nil {
			st.Registry = "ok"
			if err := a.Check(ctx); err != nil {
				a.log.WarnContext(ctx, "ginjwt: health check failed", "error", err)
				st.Status, st.Registry = "unavailable", "unavailable"
			}
			st.PendingRegistrations = -1
			if st.Registry == "ok" {
				if n, err := a.registry.PendingCount(ctx); err == nil {
					st.PendingRegistrations = n
				}
			}
		}
		c.Header("Cache-Control", "no-store")
		if st.Status != "ok" {
			c.Header("Retry-After", retryAfterUnavailable)
			c.JSON(http.StatusServiceUnavailable, st)
			return
		}
		c.JSON(http.StatusOK, st)
	}
}
