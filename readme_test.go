package ginjwt_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestREADMECompiles builds every Go program in README.md against this
// module, so its examples cannot rot. The blocks reach the compiler through
// an overlay: nothing is written into the source tree.
func TestREADMECompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go program")
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
		pkg := fmt.Sprintf("internal/readmeblock%d", i)
		overlay["Replace"][filepath.Join(wd, pkg, "main.go")] = src
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	data, _ := json.Marshal(overlay)
	if err := os.WriteFile(overlayFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range blocks {
		pkg := fmt.Sprintf("./internal/readmeblock%d", i)
		cmd := exec.Command("go", "build", "-overlay", overlayFile, "-o", filepath.Join(tmp, "bin"), pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README Go block %d does not build: %v\n%s", i, err, out)
		}
	}
}
