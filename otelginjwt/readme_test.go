package otelginjwt_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestREADMEObservabilityCompiles builds the README's Go programs that use
// this module. They begin with a comment line naming otelginjwt, so the
// root module's README test (which builds blocks that begin with "package
// main" against the root module, where OpenTelemetry is not a dependency)
// leaves them to this one. Nothing is written into the source tree.
func TestREADMEObservabilityCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(//[^\n]*otelginjwt[^\n]*\npackage main\n.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go program using otelginjwt")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]map[string]string{"Replace": {}}
	for i, b := range blocks {
		src := filepath.Join(tmp, fmt.Sprintf("block%d.go", i))
		if err := os.WriteFile(src, b[1], 0o644); err != nil {
			t.Fatal(err)
		}
		overlay["Replace"][filepath.Join(wd, fmt.Sprintf("internal/readmeblock%d", i), "main.go")] = src
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	data, _ := json.Marshal(overlay)
	if err := os.WriteFile(overlayFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range blocks {
		cmd := exec.Command("go", "build", "-overlay", overlayFile, "-o", filepath.Join(tmp, "bin"), fmt.Sprintf("./internal/readmeblock%d", i))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README Go block %d (otelginjwt) does not build: %v\n%s", i, err, out)
		}
	}
}
