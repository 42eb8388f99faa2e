package device_test

import (
	"fmt"

	"github.com/ginjwt/ginjwt/device"
)

func ExampleParse() {
	a := device.Parse("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
	fmt.Println(a.Browser, a.BrowserVersion)
	fmt.Println(a.OS, a.OSVersion)
	fmt.Println(a.Platform, a.Mobile, a.Bot)
	fmt.Println(a.Label())
	// Output:
	// Safari 17
	// iOS 17.1
	// iPhone true false
	// Safari 17 on iOS
}

func ExampleAgent_Label() {
	for _, ua := range []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"curl/8.4.0",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"",
	} {
		fmt.Println(device.Parse(ua).Label())
	}
	// Output:
	// Chrome 120 on macOS
	// curl 8
	// Googlebot (bot)
	// Unknown device
}
