package otelginjwt_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRootHasNoOpenTelemetry checks the point of this module: ginjwt's own
// packages, their tests included, import no OpenTelemetry package, so its
// users never download one.
func TestRootHasNoOpenTelemetry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	cmd := exec.Command("go", "list", "-deps", "-test", "./...")
	cmd.Dir = ".." // the root module; this module's directory is not part of ./... there
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 50 || !strings.Contains(string(out), "github.com/ginjwt/ginjwt/registry\n") {
		t.Fatalf("go list listed %d packages, without ginjwt's registry: not the root module?", len(pkgs))
	}
	for _, p := range pkgs {
		if strings.HasPrefix(p, "go.opentelemetry.io/") || strings.HasPrefix(p, "github.com/ginjwt/ginjwt/otelginjwt") {
			t.Errorf("the root module depends on %s", p)
		}
	}
}
