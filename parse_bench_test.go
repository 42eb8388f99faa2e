package ginjwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// The hot path of a token seen for the first time: header, signature,
// claims. Compare runs with benchstat (BENCHMARKS.md).

func BenchmarkParse(b *testing.B) {
	clk := newClock()
	a := newAuth(b, clk, nil)
	p := session(b, a)
	// An equivalent header in other bytes takes the slow path: decoded.
	kid := a.KeyIDs()[0]
	decoded := forge(b, a, `{"typ":"JWT","alg":"HS256","kid":"`+kid+`"}`, validPayload(clk))
	for _, tc := range []struct{ name, token string }{{"header=issued", p.Access}, {"header=decoded", decoded}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.parse(tc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssueSession: claims, encoding and HS256 signatures of a new
// session's refresh and access tokens, without the registry.
func BenchmarkIssueSession(b *testing.B) {
	clk := newClock()
	a := newAuth(b, clk, nil)
	u := alice()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.issueSession(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateCached is the middleware's own work for a token the
// verified-token cache holds, without the request context it attaches the
// outcome to: reading the token, the clock, the lookup, the revocation
// check.
func BenchmarkAuthenticateCached(b *testing.B) {
	clk := newClock()
	a := newAuth(b, clk, nil)
	p := session(b, a)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	c.Request.Header.Set("Authorization", "Bearer "+p.Access)
	if _, err := a.authenticate(c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.authenticate(c); err != nil {
			b.Fatal(err)
		}
	}
}
