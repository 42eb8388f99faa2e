package registry

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	for range 1000 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		s := base64.RawURLEncoding.EncodeToString(b[:])
		k, ok := parseKey(s)
		if !ok || k != key(b) || k.String() != s {
			t.Fatalf("parseKey(%q) = %x, %v; want %x, true and back to the same text (%q)", s, k, ok, b, k.String())
		}
	}
	valid := base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef"))
	for _, tc := range []struct{ name, s string }{
		{"empty", ""},
		{"short", "s1"},
		{"one short", valid[:21]},
		{"one long", valid + "A"},
		{"standard alphabet +", "+" + valid[1:]},
		{"standard alphabet /", valid[:10] + "/" + valid[11:]},
		{"padding", valid[:20] + "=="},
		{"newline", valid[:10] + "\n" + valid[11:]},
		{"stray bits in the last character", valid[:21] + "B"},
		{"NUL", valid[:5] + "\x00" + valid[6:]},
		{"non-ASCII", valid[:20] + "é"},
		{"a UUID", "0190f000-0000-7000-8000-000000000001"},
	} {
		if k, ok := parseKey(tc.s); ok {
			t.Errorf("%s: parseKey(%q) = %x, true; want not a key", tc.name, tc.s, k)
		}
	}
}

// FuzzParseKey: a string is a key exactly when it is the one spelling of
// 16 bytes in unpadded base64url, and then the key is those bytes.
func FuzzParseKey(f *testing.F) {
	f.Add("MDEyMzQ1Njc4OWFiY2RlZg")
	f.Add("MDEyMzQ1Njc4OWFiY2RlZh")
	f.Add("MDEyMzQ1Njc4OWFiY2Rl\nZg")
	f.Add(strings.Repeat("_", 22))
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := parseKey(s)
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		want := err == nil && len(b) == 16 && base64.RawURLEncoding.EncodeToString(b) == s
		if ok != want {
			t.Fatalf("parseKey(%q) ok = %v, want %v", s, ok, want)
		}
		if ok && (string(k[:]) != string(b) || k.String() != s) {
			t.Fatalf("parseKey(%q) = %x, want %x", s, k, b)
		}
	})
}
