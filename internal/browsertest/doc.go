// Package browsertest gives tests a headless Chromium driven through chromedp,
// for checks that only a real browser can make: cookies that scripts cannot
// read, forms, redirects and what a page looks like.
//
// # Starting a browser
//
// [New] starts one browser per test and returns a chromedp context for its
// first tab; [NewTab] opens another tab in the same browser, sharing its
// cookies, and [NewIsolated] opens a tab in a browser context of its own, with
// an empty cookie jar:
//
//	ctx := browsertest.New(t)
//	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
//		t.Fatal(err)
//	}
//
// Tests should only talk to servers on 127.0.0.1, such as an
// [net/http/httptest.Server].
//
// # Finding the browser
//
// New runs the first of $GINJWT_CHROMIUM, /usr/bin/chromium, and chromium,
// chromium-browser or google-chrome on $PATH that is an executable file.
// Debian's package is chromium: apt-get install -y chromium.
//
// # Skipping and failing
//
// When no browser can be found or started, New skips the test with a loud
// message, except under CI=true, where it fails the test.
//
// # Lifetime
//
// Each browser lives at most a minute: a browser that hangs cannot hang the
// suite. It is killed, with every process it started, when the test's
// cleanup runs; its profile is a fresh empty directory removed with it. On
// systems other than Linux only the browser's main process is killed.
package browsertest
