package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// BenchmarkTransport is one authenticated request per transport: the
// access token in a Bearer header, in one cookie, or in two; a GET, and a
// POST, which in cookie modes also passes the Origin and CSRF checks.
func BenchmarkTransport(b *testing.B) {
	for _, mode := range []ginjwt.Mode{ginjwt.JSON, ginjwt.OneCookie, ginjwt.TwoCookies} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			name := "transport=bearer"
			if mode != ginjwt.JSON {
				name = "transport=" + mode.String()
			}
			b.Run(name+"/method="+method, func(b *testing.B) {
				r, req := transportEngine(b, mode, method)
				serve(b, r, req, http.StatusOK)
			})
		}
	}
}

// transportEngine mounts ginjwt in mode with a protected route for method
// and returns the engine and a request that passes it: a Bearer header in
// JSON mode, the cookies a login set otherwise, with the Origin and the
// CSRF header a browser's front end sends.
func transportEngine(b *testing.B, mode ginjwt.Mode, method string) (*gin.Engine, *http.Request) {
	b.Helper()
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{SigningKey: secret, Mode: mode, Routes: ginjwt.Routes{Paths: ginjwt.Paths{Obtain: "-"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close(context.Background()) })
	r.Handle(method, "/hello", ginjwt.RequireLogin(), hello)

	// Log in through the helper and replay what it set.
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodPost, "/login", nil)
	pair, err := auth.Login(c, alice)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(method, "http://example.com/hello", nil)
	if mode == ginjwt.JSON {
		req.Header.Set("Authorization", "Bearer "+pair.Access)
	} else {
		var cookies []string
		for _, ck := range rec.Result().Cookies() {
			if ck.Path == "/" {
				cookies = append(cookies, ck.Name+"="+ck.Value)
			}
			if ck.Name == "__Host-csrftoken" { // Secure cookies: prefixed names
				req.Header.Set("X-CSRF-Token", ck.Value)
			}
		}
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		req.Header.Set("Origin", "http://example.com")
	}
	return r, req
}

// BenchmarkPairedTransport measures each cookie mode against a Bearer
// request of the same method, alternately in one run (see pairedRatio):
// the ×base metric is the ratio the performance targets are stated in.
// Run it with -benchtime 100000x.
func BenchmarkPairedTransport(b *testing.B) {
	for _, mode := range []ginjwt.Mode{ginjwt.OneCookie, ginjwt.TwoCookies} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			b.Run("transport="+mode.String()+"/method="+method, func(b *testing.B) {
				br, breq := transportEngine(b, ginjwt.JSON, method)
				cr, creq := transportEngine(b, mode, method)
				pairedRatio(b, pairedSide{br, breq, http.StatusOK}, pairedSide{cr, creq, http.StatusOK})
			})
		}
	}
}
