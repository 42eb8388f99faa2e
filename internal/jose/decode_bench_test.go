package jose

import (
	"bytes"
	"testing"
)

// The claims decoder on the hot path of a token seen for the first time.
// Compare runs with benchstat (BENCHMARKS.md).

// BenchmarkDecodeClaims is the payload of an access token as ginjwt issues
// it.
func BenchmarkDecodeClaims(b *testing.B) {
	payload := []byte(`{"jti":"q0b3mVxYl0Zs9S1d2r8Gxw","sid":"Qm9vbGVhbnNBbmRTdHJpbmdz","token_type":"access","iat":1800000000,"exp":1800000300,"gen":1,"user_id":"0193a5f0c7e87c3d9a1b2c3d4e5f6a7b","username":"alice","perms":["perm1","perm2"]}`)
	buf := make([]byte, len(payload))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, payload)
		var w Payload
		if err := DecodePayload(buf, &w); err != nil {
			b.Fatal(err)
		}
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
		var w Payload
		if err := DecodePayload(payload, &w); err != nil {
			b.Fatal(err)
		}
	}
}
