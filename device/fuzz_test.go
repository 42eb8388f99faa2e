package device

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no header makes Parse panic or return fields that
// are unsafe to store or show. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{uaChromeMac, uaSafariIPhone, uaGooglebotMobile, uaCurl, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		a := Parse(header)
		checkRaw(t, a.Raw)
		if len(a.Hash) != 64 || strings.Trim(a.Hash, "0123456789abcdef") != "" {
			t.Errorf("Hash = %q, want 64 lower-case hex digits", a.Hash)
		}
		if a.Label() == "" {
			t.Error("Label() is empty")
		}
		for name, v := range map[string]string{
			"Browser": a.Browser, "BrowserVersion": a.BrowserVersion,
			"OS": a.OS, "OSVersion": a.OSVersion, "Platform": a.Platform,
		} {
			if len(v) > MaxFieldLen || !utf8.ValidString(v) || strings.IndexFunc(v, isControl) >= 0 {
				t.Errorf("%s = %q: longer than %d bytes, invalid UTF-8 or with a control character", name, v, MaxFieldLen)
			}
		}
		if strings.Trim(a.BrowserVersion, "0123456789") != "" {
			t.Errorf("BrowserVersion = %q, want digits only", a.BrowserVersion)
		}
		if len(header) > MaxRawLen {
			b := Parse(header[:MaxRawLen])
			b.Hash = a.Hash
			if a != b {
				t.Errorf("Parse(header) and Parse(header[:MaxRawLen]) differ beyond Hash:\n%#v\n%#v", a, b)
			}
		}
	})
}
