package device

import (
	"strings"
	"unicode/utf8"
)

// boundRaw returns the displayable form of a User-Agent header: at most the
// first MaxRawLen bytes of h are read; an incomplete UTF-8 sequence cut at
// the end of that window is dropped; each run of invalid UTF-8 becomes one
// U+FFFD; a tab becomes a space; other C0 controls, DEL and C1 controls are
// removed; surrounding spaces are trimmed; and the result is cut to
// MaxRawLen bytes on a rune boundary. The result depends only on
// h[:MaxRawLen], so the work is bounded whatever the length of h.
func boundRaw(h string) string {
	if len(h) > MaxRawLen {
		h = h[:MaxRawLen]
	}
	h = dropIncompleteTail(h)

	var b strings.Builder
	b.Grow(len(h))
	invalid := false
	for i := 0; i < len(h); {
		r, size := utf8.DecodeRuneInString(h[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			if !invalid && !appendRune(&b, utf8.RuneError) {
				break
			}
			invalid = true
			continue
		}
		invalid = false
		if r == '\t' {
			r = ' '
		} else if isControl(r) {
			continue
		}
		if !appendRune(&b, r) {
			break
		}
	}
	return strings.Trim(b.String(), " ")
}

// appendRune writes r to b unless that would take b past MaxRawLen bytes,
// and reports whether it wrote.
func appendRune(b *strings.Builder, r rune) bool {
	if b.Len()+utf8.RuneLen(r) > MaxRawLen {
		return false
	}
	b.WriteRune(r)
	return true
}

// isControl reports whether r is a C0 control, DEL or a C1 control.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// dropIncompleteTail removes a multi-byte UTF-8 sequence that s ends in the
// middle of, as when a header is cut at MaxRawLen. Invalid bytes are left for
// the caller to replace.
func dropIncompleteTail(s string) string {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return s[:i]
			}
			return s
		}
	}
	return s
}

// clip trims spaces from s and cuts it to MaxFieldLen bytes on a rune
// boundary. s must be valid UTF-8.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= MaxFieldLen {
		return s
	}
	n := MaxFieldLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}
