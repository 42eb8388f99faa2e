package device

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// Real User-Agent headers, as browsers, tools and crawlers send them.
const (
	uaChromeMac       = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaChromeWin10     = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaChromeWin7      = "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36"
	uaChromeLinux     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaChromeLinuxArm  = "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaChromeOS        = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaFirefoxWin      = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
	uaFirefoxWinXP64  = "Mozilla/5.0 (Windows NT 5.2; Win64; x64; rv:52.0) Gecko/20100101 Firefox/52.0"
	uaFirefoxLinux    = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	uaFirefoxUbuntu   = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	uaFirefoxMac      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"
	uaFirefoxAndroid  = "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0"
	uaSafariMac       = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
	uaEdgeWin         = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
	uaEdgeAndroid     = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115"
	uaEdgeIPhone      = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.2210.126 Mobile/15E148 Safari/605.1.15"
	uaEdgeWinPhone    = "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063"
	uaOperaWin        = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0"
	uaIE11            = "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko"
	uaSafariIPhone    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	uaSafariIPad      = "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	uaSafariIPod      = "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1"
	uaChromeIPhone    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"
	uaFirefoxIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15"
	uaIPhoneWebView   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
	uaChromeAndroid   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
	uaChromeAndroidK  = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
	uaSamsung         = "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
	uaAndroidStock    = "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"
	uaHeadlessChrome  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36"
	uaCurl            = "curl/8.4.0"
	uaWget            = "Wget/1.21.4"
	uaGoHTTP11        = "Go-http-client/1.1"
	uaGoHTTP2         = "Go-http-client/2.0"
	uaPythonRequests  = "python-requests/2.31.0"
	uaOkHTTP          = "okhttp/4.12.0"
	uaGooglebot       = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaGooglebotMobile = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaGooglebotBare   = "Googlebot/2.1 (+http://www.google.com/bot.html)"
	uaBingbot         = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
	uaBingbotWebKit   = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"
	uaYandexBot       = "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"
	uaFacebook        = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
)

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ua    string
		want  Agent // Raw and Hash are filled in from ua
		label string
	}{
		// Desktop browsers.
		{"chrome macos", uaChromeMac, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "macOS", OSVersion: "10.15.7", Platform: "Macintosh"}, "Chrome 120 on macOS"},
		{"chrome windows 10", uaChromeWin10, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "Windows", OSVersion: "10", Platform: "Windows"}, "Chrome 120 on Windows"},
		{"chrome windows 7", uaChromeWin7, Agent{Browser: "Chrome", BrowserVersion: "109", OS: "Windows", OSVersion: "7", Platform: "Windows"}, "Chrome 109 on Windows"},
		{"chrome linux", uaChromeLinux, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "Linux", Platform: "X11"}, "Chrome 120 on Linux"},
		{"chrome linux arm", uaChromeLinuxArm, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "Linux", Platform: "X11"}, "Chrome 120 on Linux"},
		{"chrome chromeos", uaChromeOS, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "ChromeOS", OSVersion: "14541.0.0", Platform: "X11"}, "Chrome 120 on ChromeOS"},
		{"firefox windows", uaFirefoxWin, Agent{Browser: "Firefox", BrowserVersion: "121", OS: "Windows", OSVersion: "10", Platform: "Windows"}, "Firefox 121 on Windows"},
		{"firefox windows xp x64", uaFirefoxWinXP64, Agent{Browser: "Firefox", BrowserVersion: "52", OS: "Windows", OSVersion: "XP", Platform: "Windows"}, "Firefox 52 on Windows"},
		{"firefox linux", uaFirefoxLinux, Agent{Browser: "Firefox", BrowserVersion: "121", OS: "Linux", Platform: "X11"}, "Firefox 121 on Linux"},
		{"firefox ubuntu", uaFirefoxUbuntu, Agent{Browser: "Firefox", BrowserVersion: "121", OS: "Ubuntu", Platform: "X11"}, "Firefox 121 on Ubuntu"},
		{"firefox macos", uaFirefoxMac, Agent{Browser: "Firefox", BrowserVersion: "121", OS: "macOS", OSVersion: "10.15", Platform: "Macintosh"}, "Firefox 121 on macOS"},
		{"safari macos", uaSafariMac, Agent{Browser: "Safari", BrowserVersion: "17", OS: "macOS", OSVersion: "10.15.7", Platform: "Macintosh"}, "Safari 17 on macOS"},
		{"edge windows", uaEdgeWin, Agent{Browser: "Edge", BrowserVersion: "120", OS: "Windows", OSVersion: "10", Platform: "Windows"}, "Edge 120 on Windows"},
		{"opera windows", uaOperaWin, Agent{Browser: "Opera", BrowserVersion: "106", OS: "Windows", OSVersion: "10", Platform: "Windows"}, "Opera 106 on Windows"},
		{"internet explorer 11", uaIE11, Agent{Browser: "Internet Explorer", BrowserVersion: "11", OS: "Windows", OSVersion: "10", Platform: "Windows"}, "Internet Explorer 11 on Windows"},
		{"headless chrome", uaHeadlessChrome, Agent{Browser: "Headless Chrome", BrowserVersion: "120", OS: "Linux", Platform: "X11"}, "Headless Chrome 120 on Linux"},

		// Apple mobile devices.
		{"safari iphone", uaSafariIPhone, Agent{Browser: "Safari", BrowserVersion: "17", OS: "iOS", OSVersion: "17.1", Platform: "iPhone", Mobile: true}, "Safari 17 on iOS"},
		{"safari ipad", uaSafariIPad, Agent{Browser: "Safari", BrowserVersion: "17", OS: "iOS", OSVersion: "17.1", Platform: "iPad", Mobile: true}, "Safari 17 on iOS"},
		{"safari ipod", uaSafariIPod, Agent{Browser: "Safari", BrowserVersion: "12", OS: "iOS", OSVersion: "12.5.7", Platform: "iPod touch", Mobile: true}, "Safari 12 on iOS"},
		{"chrome iphone", uaChromeIPhone, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "iOS", OSVersion: "17.1", Platform: "iPhone", Mobile: true}, "Chrome 120 on iOS"},
		{"firefox iphone", uaFirefoxIPhone, Agent{Browser: "Firefox", BrowserVersion: "121", OS: "iOS", OSVersion: "17.1", Platform: "iPhone", Mobile: true}, "Firefox 121 on iOS"},
		{"edge iphone", uaEdgeIPhone, Agent{Browser: "Edge", BrowserVersion: "120", OS: "iOS", OSVersion: "17.1", Platform: "iPhone", Mobile: true}, "Edge 120 on iOS"},
		{"iphone app webview", uaIPhoneWebView, Agent{Browser: "Mobile App", OS: "iOS", OSVersion: "17.1", Platform: "iPhone", Mobile: true}, "Mobile App on iOS"},

		// Android and other mobile devices.
		{"chrome android", uaChromeAndroid, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "Android", OSVersion: "14", Platform: "Linux", Mobile: true}, "Chrome 120 on Android"},
		{"chrome android reduced", uaChromeAndroidK, Agent{Browser: "Chrome", BrowserVersion: "120", OS: "Android", OSVersion: "10", Platform: "Linux", Mobile: true}, "Chrome 120 on Android"},
		{"edge android", uaEdgeAndroid, Agent{Browser: "Edge", BrowserVersion: "120", OS: "Android", OSVersion: "10", Platform: "Linux", Mobile: true}, "Edge 120 on Android"},
		{"firefox android", uaFirefoxAndroid, Agent{Browser: "Firefox", BrowserVersion: "121", OS: "Android", OSVersion: "14", Platform: "Mobile", Mobile: true}, "Firefox 121 on Android"},
		{"samsung internet", uaSamsung, Agent{Browser: "Samsung Internet", BrowserVersion: "23", OS: "Android", OSVersion: "13", Platform: "Linux", Mobile: true}, "Samsung Internet 23 on Android"},
		{"android stock browser", uaAndroidStock, Agent{Browser: "Android Browser", BrowserVersion: "4", OS: "Android", OSVersion: "4.0.3", Platform: "Linux", Mobile: true}, "Android Browser 4 on Android"},
		{"edge windows phone", uaEdgeWinPhone, Agent{Browser: "Edge", BrowserVersion: "15", OS: "Windows Phone", OSVersion: "10.0", Platform: "Windows", Mobile: true}, "Edge 15 on Windows Phone"},

		// Tools and HTTP libraries: named by their product, not bots.
		{"curl", uaCurl, Agent{Browser: "curl", BrowserVersion: "8"}, "curl 8"},
		{"wget", uaWget, Agent{Browser: "Wget", BrowserVersion: "1"}, "Wget 1"},
		{"go http/1.1 client", uaGoHTTP11, Agent{Browser: "Go-http-client", BrowserVersion: "1"}, "Go-http-client 1"},
		{"go http/2 client", uaGoHTTP2, Agent{Browser: "Go-http-client", BrowserVersion: "2"}, "Go-http-client 2"},
		{"python requests", uaPythonRequests, Agent{Browser: "python-requests", BrowserVersion: "2"}, "python-requests 2"},
		// mssola/useragent takes OkHttp for an Android app.
		{"okhttp", uaOkHTTP, Agent{Browser: "OkHttp", BrowserVersion: "4", Mobile: true}, "OkHttp 4"},

		// Crawlers.
		{"googlebot", uaGooglebot, Agent{Browser: "Googlebot", BrowserVersion: "2", Bot: true}, "Googlebot (bot)"},
		{"googlebot smartphone", uaGooglebotMobile, Agent{Browser: "Googlebot", BrowserVersion: "2", Mobile: true, Bot: true}, "Googlebot (bot)"},
		{"googlebot without mozilla", uaGooglebotBare, Agent{Browser: "Googlebot", Bot: true}, "Googlebot (bot)"},
		{"bingbot", uaBingbot, Agent{Browser: "Bingbot", BrowserVersion: "2", Bot: true}, "Bingbot (bot)"},
		{"bingbot webkit", uaBingbotWebKit, Agent{Browser: "Bingbot", BrowserVersion: "2", Bot: true}, "Bingbot (bot)"},
		{"yandexbot", uaYandexBot, Agent{Browser: "YandexBot", BrowserVersion: "3", Bot: true}, "YandexBot (bot)"},
		{"facebook link preview", uaFacebook, Agent{Browser: "facebookexternalhit", BrowserVersion: "1", Bot: true}, "facebookexternalhit (bot)"},

		// Headers that say nothing.
		{"empty", "", Agent{}, "Unknown device"},
		{"mozilla only", "Mozilla/5.0", Agent{}, "Unknown device"},
		{"mozilla compatible", "Mozilla/5.0 (compatible)", Agent{}, "Unknown device"},
		{"punctuation", "(", Agent{}, "Unknown device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want
			want.Raw, want.Hash = tt.ua, hashOf(tt.ua)
			got := Parse(tt.ua)
			if got != want {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.ua, got, want)
			}
			if l := got.Label(); l != tt.label {
				t.Errorf("Label() = %q, want %q", l, tt.label)
			}
		})
	}
}

// garbage is 10 KB of hostile bytes: control characters, an attempt at
// header injection, a terminal escape and invalid UTF-8.
var garbage = strings.Repeat("Scan/0.9\x00 \x1b[2J\r\nX-Injected: 1\x7f\xff\xfe\xc0\xaf (", 10240/32+1)[:10240]

func TestParseGarbage(t *testing.T) {
	t.Parallel()
	got := Parse(garbage)
	if len(garbage) != 10240 {
		t.Fatalf("garbage is %d bytes", len(garbage))
	}

	const wantPrefix = "Scan/0.9 [2JX-Injected: 1\uFFFD (Scan/0.9 [2JX-Injected: 1\uFFFD (Scan/0.9"
	if !strings.HasPrefix(got.Raw, wantPrefix) {
		t.Errorf("Raw = %q, want prefix %q", got.Raw, wantPrefix)
	}
	checkRaw(t, got.Raw)
	if got.Hash != hashOf(garbage) {
		t.Errorf("Hash = %s, want the SHA-256 of all 10 KB %s", got.Hash, hashOf(garbage))
	}
	want := Agent{Raw: got.Raw, Hash: got.Hash, Browser: "Scan", BrowserVersion: "0"}
	if got != want {
		t.Errorf("Parse(garbage)\n got %#v\nwant %#v", got, want)
	}
	if l := got.Label(); l != "Scan 0" {
		t.Errorf("Label() = %q, want %q", l, "Scan 0")
	}
}

// checkRaw fails t unless raw is bounded, valid UTF-8 and free of control
// characters.
func checkRaw(t *testing.T, raw string) {
	t.Helper()
	if len(raw) > MaxRawLen {
		t.Errorf("len(Raw) = %d, want <= %d", len(raw), MaxRawLen)
	}
	if !utf8.ValidString(raw) {
		t.Errorf("Raw %q is not valid UTF-8", raw)
	}
	if i := strings.IndexFunc(raw, isControl); i >= 0 {
		t.Errorf("Raw %q has a control character at byte %d", raw, i)
	}
}

func TestParseBoundsWork(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, header string }{
		{"garbage", garbage},
		{"long real header", uaChromeMac + strings.Repeat(" Extension/1.0", 1000)},
		{"multibyte at the cut", strings.Repeat("é", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			long, prefix := Parse(tt.header), Parse(tt.header[:MaxRawLen])
			if long.Hash == prefix.Hash {
				t.Errorf("a %d-byte header and its first %d bytes share Hash %s", len(tt.header), MaxRawLen, long.Hash)
			}
			long.Hash, prefix.Hash = "", ""
			if long != prefix {
				t.Errorf("a %d-byte header parses unlike its first %d bytes:\n got %#v\nwant %#v", len(tt.header), MaxRawLen, long, prefix)
			}
			checkRaw(t, long.Raw)
		})
	}
}

func TestParseHash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"identical headers", uaChromeMac, strings.Clone(uaChromeMac), true},
		{"different browsers", uaChromeMac, uaSafariMac, false},
		{"patch release", uaChromeMac, strings.Replace(uaChromeMac, "120.0.0.0", "120.0.0.1", 1), false},
		{"same Raw, different bytes", "curl/8.4.0", "curl/8.4.0\x00", false},
		{"surrounding spaces", "curl/8.4.0", " curl/8.4.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := Parse(tt.a), Parse(tt.b)
			if same := a.Hash == b.Hash; same != tt.same {
				t.Errorf("Hash(%q) = %s, Hash(%q) = %s; same = %v, want %v", tt.a, a.Hash, tt.b, b.Hash, same, tt.same)
			}
		})
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if h := Parse("").Hash; h != emptySHA256 {
		t.Errorf(`Parse("").Hash = %s, want %s`, h, emptySHA256)
	}
}

func TestRecognize(t *testing.T) {
	t.Parallel()
	request := func(userAgent string, set bool) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/auth/token", nil)
		if set {
			r.Header.Set("User-Agent", userAgent)
		}
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		want Agent
	}{
		{"iphone", request(uaSafariIPhone, true), Parse(uaSafariIPhone)},
		{"no header", request("", false), Parse("")},
		{"empty header", request("", true), Parse("")},
		{"nil request", nil, Parse("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Recognize(tt.r); got != tt.want {
				t.Errorf("Recognize() = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		agent Agent
		want  string
	}{
		{"zero", Agent{}, "Unknown device"},
		{"browser, version and os", Agent{Browser: "Chrome", BrowserVersion: "120", OS: "macOS"}, "Chrome 120 on macOS"},
		{"browser without version", Agent{Browser: "Mobile App", OS: "iOS"}, "Mobile App on iOS"},
		{"browser without os", Agent{Browser: "curl", BrowserVersion: "8"}, "curl 8"},
		{"os without browser", Agent{OS: "Linux", Platform: "X11"}, "Unknown browser on Linux"},
		{"platform only", Agent{Platform: "X11"}, "Unknown device"},
		{"bot", Agent{Browser: "Googlebot", BrowserVersion: "2", OS: "Android", Bot: true}, "Googlebot (bot)"},
		{"unnamed bot", Agent{Bot: true}, "Unknown bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.agent.Label(); got != tt.want {
				t.Errorf("%#v.Label() = %q, want %q", tt.agent, got, tt.want)
			}
		})
	}
}
