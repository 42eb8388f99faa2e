package device

import (
	"strings"
	"testing"
)

func TestBoundRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", uaCurl, uaCurl},
		{"tab becomes a space", "curl/8.4.0\t(x)", "curl/8.4.0 (x)"},
		{"C0 removed", "a\x00b\x01c\x1bd\r\ne", "abcde"},
		{"DEL removed", "a\x7fb", "ab"},
		{"C1 removed", "a\u0085b\u009bc", "abc"},
		{"format characters kept", "a\u200bb\u00a0c", "a\u200bb\u00a0c"},
		{"invalid byte replaced", "a\xffb", "a\uFFFDb"},
		{"invalid run replaced once", "a\xff\xfe\xc0\xafb", "a\uFFFDb"},
		{"lone continuation bytes replaced once", "a\x80\x80b", "a\uFFFDb"},
		{"truncated sequence at the end dropped", "ab\xe2\x82", "ab"},
		{"U+FFFD sent as is kept", "a\uFFFDb", "a\uFFFDb"},
		{"surrounding spaces trimmed", "  curl/8.4.0 \t", "curl/8.4.0"},
		{"only controls", "\x00\r\n\x1b", ""},
		{"non-ASCII kept", "Navigateur/1.0 (Français; 日本語)", "Navigateur/1.0 (Français; 日本語)"},
		{"cut at MaxRawLen", strings.Repeat("a", 600), strings.Repeat("a", MaxRawLen)},
		{"cut before a rune split by MaxRawLen", "a" + strings.Repeat("é", 300), "a" + strings.Repeat("é", 255)},
		{"replacements cut on a rune boundary", strings.Repeat("\xffa", 300), strings.Repeat("\uFFFDa", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := boundRaw(tt.in); got != tt.want {
				t.Errorf("boundRaw(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"short", "Chrome", "Chrome"},
		{"spaces trimmed", " Chrome ", "Chrome"},
		{"cut at MaxFieldLen", strings.Repeat("x", 100), strings.Repeat("x", MaxFieldLen)},
		{"cut on a rune boundary", "x" + strings.Repeat("é", 40), "x" + strings.Repeat("é", 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := clip(tt.in); got != tt.want {
				t.Errorf("clip(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
