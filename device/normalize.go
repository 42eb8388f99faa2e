package device

import (
	"strings"

	"github.com/mssola/useragent"
)

// browserTokens are products that mssola/useragent reports under another
// name (Samsung Internet as "Android", Edge for Android as "Chrome", Edge for
// iOS as "Safari"). The token's own version is the browser's version.
var browserTokens = []struct{ token, name string }{
	{"SamsungBrowser/", "Samsung Internet"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
}

// browserNames renames what mssola/useragent reports where its name is
// misleading: "Mozilla" is the compatibility prefix of a header that names no
// browser, "Android" is the old stock Android browser, "bingbot" is spelled
// as Microsoft does.
var browserNames = map[string]string{
	"Mozilla": "",
	"Android": "Android Browser",
	"bingbot": "Bingbot",
}

// browser returns the browser's name and major version, unclipped.
func browser(ua *useragent.UserAgent, raw string) (name, major string) {
	name, version := ua.Browser()
	if !ua.Bot() {
		for _, field := range strings.Fields(raw) {
			for _, t := range browserTokens {
				if v, ok := strings.CutPrefix(field, t.token); ok {
					name, version = t.name, v
				}
			}
		}
	}
	if n, ok := browserNames[name]; ok {
		name = n
	}
	if name == "" {
		return "", ""
	}
	return name, majorVersion(version)
}

// majorVersion returns the leading decimal digits of v: "120" for
// "120.0.6099.144", "" for "" or "beta".
func majorVersion(v string) string {
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	return v[:n]
}

// operatingSystem returns the normalised name and version of the operating
// system that mssola/useragent found, unclipped.
func operatingSystem(ua *useragent.UserAgent) (name, version string) {
	full := ua.OS()
	info := ua.OSInfo()
	switch {
	case full == "":
		return "", ""
	case strings.Contains(full, "like Mac OS X"): // "CPU iPhone OS 17_1 like Mac OS X", "CPU OS 17_1 like Mac OS X"
		return "iOS", info.Version
	case strings.Contains(full, "Mac OS X"): // "Intel Mac OS X 10_15_7", "PPC Mac OS X 10_5_8"
		return "macOS", info.Version
	case strings.HasPrefix(full, "Windows Phone"): // "Windows Phone 10.0"
		return "Windows Phone", strings.TrimSpace(strings.TrimPrefix(full, "Windows Phone"))
	case strings.HasPrefix(full, "Windows"): // "Windows 10", "Windows XP x64 Edition", "Windows NT 4.0"
		return "Windows", windowsVersion(strings.TrimPrefix(full, "Windows"))
	case strings.HasPrefix(full, "Android"): // "Android 14"
		return "Android", info.Version
	case strings.HasPrefix(full, "CrOS"): // "CrOS x86_64 14541.0.0"
		return "ChromeOS", info.Version
	case strings.HasPrefix(full, "Linux"): // "Linux x86_64", "Linux armv7l": an architecture, not a version
		return "Linux", ""
	}
	return info.Name, info.Version
}

// windowsVersion tidies the part of mssola/useragent's Windows name after
// "Windows": "XP x64 Edition" is "XP", "2000, Service Pack 1 (SP1)" is
// "2000". "10" is Windows 10 or 11, which send the same header.
func windowsVersion(v string) string {
	v, _, _ = strings.Cut(v, ",")
	v = strings.TrimSuffix(strings.TrimSpace(v), " x64 Edition")
	return v
}
