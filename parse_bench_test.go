package ginjwt

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// The hot path of a token seen for the first time: header, signature,
// claims. Compare runs with benchstat (BENCHMARKS.md).

func BenchmarkDecodeClaims(b *testing.B) {
	a := newAuth(b, newClock(), nil)
	p := session(b, a)
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(p.Access, ".")[1])
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(payload))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, payload)
		var w wireClaims
		if err := decodeClaims(buf, &w); err != nil {
			b.Fatal(err)
		}
	}
}

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

// BenchmarkDecodeUnknownClaims is a payload with many claims of the
// application's own, the worst case for the duplicate check.
func BenchmarkDecodeUnknownClaims(b *testing.B) {
	var sb bytes.Buffer
	sb.WriteString(`{"jti":"j","sid":"s","token_type":"access","iat":1800000000,"exp":1800000060,"user_id":"u"`)
	for _, name := range []string{"tenant", "plan", "region", "roles", "org", "team", "locale", "tz", "scope", "client_id", "amr", "acr", "azp", "email"} {
		sb.WriteString(`,"` + name + `":"v"`)
	}
	sb.WriteString("}")
	payload := sb.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		var w wireClaims
		if err := decodeClaims(payload, &w); err != nil {
			b.Fatal(err)
		}
	}
}
