package ginjwt

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestSessionsHandlerWithoutRegistry: a Handlers.Sessions that wraps the
// built-in, on a ginjwt without a registry, serves its route; the built-in
// it calls answers 404 (nothing to list), never a panic; the routes it
// does not set stay unregistered (405 with Allow).
func TestSessionsHandlerWithoutRegistry(t *testing.T) {
	h := newHarness(t, nil, func(c *Config) {
		c.Registry.Disabled = true
		c.Routes.Handlers.Sessions = func(builtin gin.HandlerFunc) gin.HandlerFunc {
			return func(c *gin.Context) { c.Header("X-Wrapped", "yes"); builtin(c) }
		}
	})
	h.user("alice")
	p := h.login("alice")
	w := h.do(req{path: "/auth/sessions", bearer: p.Access})
	wantError(t, w, http.StatusNotFound, "not_found")
	if w.Header().Get("X-Wrapped") != "yes" {
		t.Fatal("the wrapper did not run")
	}
	w = h.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: p.Access})
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET" {
		t.Fatalf("DELETE /auth/sessions: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
}
