package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// lifetime bounds each browser that New starts, so that a hung browser fails
// its test instead of hanging the suite.
const lifetime = 60 * time.Second

// New starts a headless Chromium for t and returns a chromedp context for its
// first tab. The browser is killed, and its profile removed, at t's cleanup,
// or after a minute, whichever comes first.
//
// When no browser can be found or started, New skips t with a loud message;
// under CI=true it fails t instead. See the package doc for where it looks.
func New(t testing.TB) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		unavailable(t, "no Chromium found at $"+EnvChromium+", /usr/bin/chromium or on $PATH (chromium, chromium-browser, google-chrome)")
		return nil
	}
	profile, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		t.Fatalf("browsertest: make a profile directory: %v", err)
		return nil
	}
	timeoutCtx, stopTimeout := context.WithTimeout(context.Background(), lifetime)
	allocCtx, stopAlloc := chromedp.NewExecAllocator(timeoutCtx, allocatorOptions(path, profile)...)
	ctx, stopBrowser := chromedp.NewContext(allocCtx)
	// Cancelling the first tab's context kills the browser's main process and
	// waits for it; the processes it started can outlive it, so they are
	// killed before the profile they write to is removed.
	t.Cleanup(func() {
		stopBrowser()
		stopAlloc()
		stopTimeout()
		killLeftovers(profile)
		if err := os.RemoveAll(profile); err != nil {
			t.Errorf("browsertest: remove the profile: %v", err)
		}
	})
	// Run with no actions starts the browser and opens its first tab.
	if err := chromedp.Run(ctx); err != nil {
		unavailable(t, fmt.Sprintf("cannot start %s: %v", path, strings.TrimSpace(err.Error())))
		return nil
	}
	return ctx
}

// allocatorOptions are chromedp's defaults plus what this machine needs: no
// sandbox (tests run as root), no GPU, and none of the background connections
// (component updates, sync, QUIC probes) that a closed network refuses. The
// flags the defaults already hold are repeated so that the list stays
// complete if chromedp's defaults change. The profile is the fresh empty
// directory profile, which New owns: chromedp neither makes nor removes a
// profile that it is given, and every process of the browser has the flag
// --user-data-dir=profile, by which killLeftovers finds them.
func allocatorOptions(path, profile string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
}

// NewTab opens another tab in the browser of ctx, a context from New or from
// NewTab or NewIsolated. It shares the cookies of ctx's browser context. The
// tab is closed at t's cleanup; t fails when it cannot be opened.
func NewTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	return open(t, ctx, false)
}

// NewIsolated opens a tab in a new browser context of ctx's browser: like an
// incognito window, it starts with no cookies and storage and shares none with
// other tabs. Tabs opened from it with NewTab share its jar. The browser
// context is disposed of at t's cleanup; t fails when it cannot be made.
func NewIsolated(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	return open(t, ctx, true)
}

// open opens a tab in a window of its own in the browser of ctx, in ctx's
// browser context or, if isolated, in a new one, and returns a child context
// of ctx attached to it. The tab is opened at once, so that a failure is
// reported here and not by the test's first action.
//
// chromedp v0.14 would open a plain child context's tab in the window of the
// browser's first tab, where only the active tab is visible, and a hidden page
// gets no animation frames: chromedp.Poll in any other tab of that window
// would never return. It cannot open the first tab of a new browser context
// at all, as that context has no window yet ("no browser is open"). So open
// makes the browser context and the tab itself, with a new window, and
// attaches to the tab with chromedp.WithTargetID.
func open(t testing.TB, ctx context.Context, isolated bool) context.Context {
	t.Helper()
	what := "tab"
	if isolated {
		what = "isolated tab"
	}
	parent := chromedp.FromContext(ctx)
	if parent == nil || parent.Browser == nil {
		t.Fatalf("browsertest: open %s: the context is not one from New, NewTab or NewIsolated", what)
		return nil
	}
	browser := cdp.WithExecutor(ctx, parent.Browser)
	id := parent.BrowserContextID
	if isolated {
		var err error
		id, err = target.CreateBrowserContext().WithDisposeOnDetach(true).Do(browser)
		if err != nil {
			t.Fatalf("browsertest: open %s: create a browser context: %v", what, err)
			return nil
		}
		t.Cleanup(func() {
			// After the tab's cleanup below, which closes the tab. A
			// browser that is gone has disposed of it already.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = target.DisposeBrowserContext(id).Do(cdp.WithExecutor(ctx, parent.Browser))
		})
	}
	tab, err := target.CreateTarget("about:blank").
		WithBrowserContextID(id).
		WithNewWindow(true).
		Do(browser)
	if err != nil {
		t.Fatalf("browsertest: open %s: %v", what, err)
		return nil
	}
	child, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(tab))
	// A context attached WithTargetID does not inherit the browser context;
	// set it, so that the tabs that NewTab opens from child share its jar.
	chromedp.FromContext(child).BrowserContextID = id
	t.Cleanup(cancel) // detaches from the tab and closes it
	if err := chromedp.Run(child); err != nil {
		t.Fatalf("browsertest: open %s: %v", what, err)
		return nil
	}
	return child
}
