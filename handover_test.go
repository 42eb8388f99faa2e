package ginjwt

import (
	"net/http"
	"strings"
	"testing"
)

// TestHandOverKeepsOwnEndpoints: a prefix that covers one of ginjwt's
// endpoints is refused, and their 405 stays ginjwt's; one below them is
// handed over.
func TestHandOverKeepsOwnEndpoints(t *testing.T) {
	h := newHarness(t, nil, nil)
	for _, p := range []string{"/", "", "/auth", "/auth/token", "auth/admin"} {
		if err := h.auth.HandOver(p); err == nil {
			t.Errorf("HandOver(%q) accepted", p)
		}
	}
	if w := h.do(req{method: http.MethodGet, path: "/auth/token"}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/token answers %d, want ginjwt's 405", w.Code)
	}
	if err := h.auth.HandOver("/auth/admin"); err != nil {
		t.Fatal(err)
	}
	// Nothing serves it here: gin's own 404, not ginjwt's JSON one.
	if w := h.do(req{path: "/auth/admin/x"}); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("a handed-over path still gets ginjwt's answer: %d %s", w.Code, w.Body)
	}
}
