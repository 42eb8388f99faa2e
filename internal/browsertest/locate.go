package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// EnvChromium names the environment variable that points New at a browser
// binary. It is tried before the usual places.
const EnvChromium = "GINJWT_CHROMIUM"

// candidates lists where New looks for a browser, in order. A name without a
// slash is looked up on $PATH.
func candidates(getenv func(string) string) []string {
	list := []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	if p := getenv(EnvChromium); p != "" {
		list = append([]string{p}, list...)
	}
	return list
}

// locate returns the first candidate that lookPath resolves, or "" when none
// does.
func locate(getenv func(string) string, lookPath func(string) (string, error)) string {
	for _, c := range candidates(getenv) {
		if p, err := lookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// findChromium is locate on the real environment and $PATH.
func findChromium() string {
	return locate(os.Getenv, exec.LookPath)
}

// unavailable ends t for want of a browser: it fails under CI=true, where a
// missing browser is a broken machine, and skips loudly everywhere else.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("browsertest: a browser is required under CI=true: %s", reason)
		return
	}
	t.Skipf("\n\n*** SKIPPING browser test: %s ***\n*** apt-get install -y chromium, or set %s; under CI=true this fails ***\n\n", reason, EnvChromium)
}
