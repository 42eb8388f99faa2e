package browsertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       string
		installed []string
		want      string
	}{
		{"nothing installed", "", nil, ""},
		{"Debian's chromium", "", []string{"/usr/bin/chromium", "google-chrome"}, "/usr/bin/chromium"},
		{"PATH order", "", []string{"chromium-browser", "google-chrome"}, "chromium-browser"},
		{"env first", "/opt/chrome", []string{"/opt/chrome", "/usr/bin/chromium"}, "/opt/chrome"},
		{"env missing falls back", "/opt/chrome", []string{"chromium"}, "chromium"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(key string) string {
				if key == EnvChromium {
					return tc.env
				}
				return ""
			}
			lookPath := func(file string) (string, error) {
				for _, f := range tc.installed {
					if f == file {
						return f, nil
					}
				}
				return "", errors.New("not found")
			}
			if got := locate(getenv, lookPath); got != tc.want {
				t.Errorf("locate = %q, want %q", got, tc.want)
			}
		})
	}
}

// recorder is a testing.TB that records Skipf and Fatalf instead of ending
// the test; everything else goes to the real test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

// TestUnstartable points New at a program that exits at once, and checks
// that it skips outside CI and fails under CI=true, naming the program.
func TestUnstartable(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "fake-chromium")
	script := "#!/bin/sh\necho 'fake-chromium: no display here' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvChromium, fake)
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			if ctx := New(r); ctx != nil {
				t.Fatal("New returned a context for a browser that cannot start")
			}
			got, other := r.skipped, r.failed
			if ci == "true" {
				got, other = r.failed, r.skipped
			}
			// What the program printed is included when chromedp caught it
			// before the exit, which is a race: only the path is required.
			if other != "" || !strings.Contains(got, fake) {
				t.Errorf("skipped %q, failed %q; want only the %s, naming the program",
					r.skipped, r.failed, map[string]string{"": "skip", "true": "failure"}[ci])
			}
		})
	}
}
