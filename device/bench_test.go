package device

import (
	"strings"
	"testing"
)

// BenchmarkParse shows that a huge header costs about what a normal one
// does: only its hash reads past MaxRawLen.
func BenchmarkParse(b *testing.B) {
	benchmarks := []struct{ name, header string }{
		{"chrome", uaChromeMac},
		{"512B", garbage[:MaxRawLen]},
		{"10KB", garbage},
		{"1MB", strings.Repeat(garbage, 100)},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(bm.header)
			}
		})
	}
}
