package device

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/mssola/useragent"
)

// MaxRawLen is the most bytes of a User-Agent header that are parsed and
// kept in [Agent.Raw]. Real headers are shorter than 300 bytes; longer ones
// are cut, so a 10 KB header is parsed as fast as a 512-byte one (only
// [Agent.Hash] reads the rest).
const MaxRawLen = 512

// MaxFieldLen is the most bytes kept in each parsed field of an [Agent]
// (Browser, BrowserVersion, OS, OSVersion, Platform); a longer value, which
// only a made-up header produces, is cut on a character boundary.
const MaxFieldLen = 64

// Agent is what a User-Agent header says about the client. The zero Agent
// describes a request without a User-Agent, except for its Hash; use
// Parse("") for a complete one.
//
// Every string field is valid UTF-8 without control characters, so it can be
// stored and shown as is. Unknown fields are empty, never "Unknown": the
// words are left to [Agent.Label]. The struct tags let a GORM model embed an
// Agent; the model adds the unique index on Hash.
type Agent struct {
	// Raw is the header as sent, for display: at most MaxRawLen bytes (cut on
	// a character boundary), control characters (C0, DEL, C1) removed except
	// that a tab becomes a space, invalid UTF-8 replaced with U+FFFD, and
	// surrounding spaces trimmed.
	Raw string `gorm:"column:user_agent;size:512;not null" json:"user_agent"`

	// Hash is the hex SHA-256 of the whole header exactly as sent, before
	// it was bounded and cleaned: identical headers share one Hash, and a
	// long header does not share its Hash with its first MaxRawLen bytes.
	// It is always 64 characters, even for an empty header.
	Hash string `gorm:"column:hash;size:64;not null" json:"hash"`

	// Browser is the client's name: "Chrome", "Firefox", "Safari", "Edge",
	// "Opera", "Samsung Internet", "Internet Explorer", "Headless Chrome";
	// for a tool or library, its product name ("curl", "Go-http-client",
	// "python-requests"); for a bot, the bot ("Googlebot", "Bingbot").
	// Empty when unknown.
	Browser string `gorm:"column:browser;size:64;not null" json:"browser"`

	// BrowserVersion is the major version only ("120" for Chrome
	// 120.0.6099.144): the full version adds fingerprinting detail and
	// splits one browser into a value per patch release wherever sessions
	// are shown or grouped. Empty when unknown.
	BrowserVersion string `gorm:"column:browser_version;size:64;not null" json:"browser_version"`

	// OS is the operating system: "macOS", "Windows", "iOS" (iPhone, iPad
	// and iPod alike), "Android", "Linux", "ChromeOS", "Windows Phone", or a
	// Linux distribution the header names ("Ubuntu", "Fedora"). Empty when
	// unknown, and for bots.
	OS string `gorm:"column:os;size:64;not null" json:"os"`

	// OSVersion is the operating system's version as sent, with dots:
	// "10.15.7" for macOS, "17.1" for iOS, "14" for Android, "10" for
	// Windows 10 and 11 (which send the same header), "7", "XP". Empty when
	// unknown, and always for Linux, whose headers name an architecture.
	OSVersion string `gorm:"column:os_version;size:64;not null" json:"os_version"`

	// Platform is the first word of the header's system comment as
	// mssola/useragent reports it: "Macintosh", "Windows", "iPhone",
	// "iPad", "Linux" (Android too), "X11" (desktop Linux and ChromeOS).
	// Empty when the header has none.
	Platform string `gorm:"column:platform;size:64;not null" json:"platform"`

	// Mobile reports a phone or tablet (the header's "Mobile" token, an
	// iPhone, iPad or Android device), including mobile crawlers.
	Mobile bool `gorm:"column:mobile;not null;default:false" json:"mobile"`

	// Bot reports a crawler that announces itself (Googlebot, Bingbot,
	// YandexBot, …). Command-line tools and HTTP libraries such as curl or
	// Go-http-client are not bots: they are how scripts and other services
	// sign in.
	Bot bool `gorm:"column:bot;not null;default:false" json:"bot"`
}

// Parse reads a User-Agent header. It never fails and never panics: an
// empty or unrecognised header gives an Agent whose parsed fields are empty
// (Raw and Hash are always set). Only the first [MaxRawLen] bytes are
// parsed; Hash covers the whole header.
func Parse(userAgent string) Agent {
	a := Agent{
		Raw:  boundRaw(userAgent),
		Hash: hashHeader(userAgent),
	}
	if a.Raw == "" {
		return a
	}
	recognize(&a)
	return a
}

// hashHeader returns the hex SHA-256 of h. It feeds h through a small
// buffer rather than converting it to a []byte, so a header of a megabyte
// costs the hashing but not a copy.
func hashHeader(h string) string {
	d := sha256.New()
	buf := make([]byte, min(len(h), 4096))
	for len(h) > 0 {
		n := copy(buf, h)
		d.Write(buf[:n])
		h = h[n:]
	}
	return hex.EncodeToString(d.Sum(nil))
}

// recognize fills in the parsed fields of a from a.Raw. Should the
// third-party parser ever panic on a crafted header, the parsed fields stay
// empty rather than the panic reaching the request.
func recognize(a *Agent) {
	defer func() {
		if recover() != nil {
			*a = Agent{Raw: a.Raw, Hash: a.Hash}
		}
	}()
	ua := useragent.New(a.Raw)
	name, version := browser(ua, a.Raw)
	a.Browser, a.BrowserVersion = clip(name), clip(version)
	name, version = operatingSystem(ua)
	a.OS, a.OSVersion = clip(name), clip(version)
	if a.Browser == "" {
		a.BrowserVersion = ""
	}
	if a.OS == "" {
		a.OSVersion = ""
	}
	a.Platform = clip(ua.Platform())
	a.Mobile = ua.Mobile()
	a.Bot = ua.Bot()
}

// Recognize parses the User-Agent header of r, as [Parse] does. A nil
// request is treated as one without the header.
func Recognize(r *http.Request) Agent {
	if r == nil {
		return Parse("")
	}
	return Parse(r.UserAgent())
}

// Label is a short human description of the client, for session lists:
// "Chrome 120 on macOS", "Safari 17 on iOS", "curl 8" (no operating system
// known), "Unknown browser on Linux", "Googlebot (bot)". It is never empty:
// a header that says nothing recognisable is "Unknown device".
func (a Agent) Label() string {
	if a.Bot {
		if a.Browser == "" {
			return "Unknown bot"
		}
		return a.Browser + " (bot)"
	}
	if a.Browser == "" && a.OS == "" {
		return "Unknown device"
	}
	label := a.Browser
	if label == "" {
		label = "Unknown browser"
	} else if a.BrowserVersion != "" {
		label += " " + a.BrowserVersion
	}
	if a.OS != "" {
		label += " on " + a.OS
	}
	return label
}
