package steptest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/pipeline/steptest"
)

// flaws are audit steps broken in one way each, and the check that must
// catch it.
var flaws = map[string]struct {
	check   string
	fixture func() steptest.Fixture
}{
	"counts replays": {"Replay", auditWith(func(a *audit) pipeline.Step {
		return func(ctx context.Context, e *pipeline.Event) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, tok := range e.Tokens() {
				a.rows[fmt.Sprintf("%s#%d", tok.ID, len(a.rows))] = auditRow{JTI: tok.ID}
			}
			return nil
		}
	})},
	"refuses replays": {"Replay", auditWith(func(a *audit) pipeline.Step {
		return func(ctx context.Context, e *pipeline.Event) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, tok := range e.Tokens() {
				if _, seen := a.rows[tok.ID]; seen {
					return errors.New("audit: already recorded")
				}
				a.rows[tok.ID] = auditRow{JTI: tok.ID}
			}
			return nil
		}
	})},
	"ignores its context": {"Canceled", auditWith(func(a *audit) pipeline.Step {
		return func(_ context.Context, e *pipeline.Event) error {
			return a.Record(context.Background(), e)
		}
	})},
	"looks at its context half way": {"CanceledMidway", auditWith(func(a *audit) pipeline.Step {
		return func(ctx context.Context, e *pipeline.Event) error {
			for _, tok := range e.Tokens() {
				if err := ctx.Err(); err != nil {
					return err
				}
				a.mu.Lock()
				a.rows[tok.ID] = auditRow{JTI: tok.ID}
				a.mu.Unlock()
			}
			return nil
		}
	})},
	"changes the event": {"EventUntouched", auditWith(func(a *audit) pipeline.Step {
		return func(ctx context.Context, e *pipeline.Event) error {
			e.UserAgent = strings.ToLower(e.UserAgent)
			return a.Record(ctx, e)
		}
	})},
	"keeps the event": {"EventUntouched", func() steptest.Fixture {
		k := &keeper{}
		return steptest.Fixture{Step: k.Keep, State: k.Seen}
	}},
}

// auditWith returns fixtures of an audit whose step is step(audit).
func auditWith(step func(a *audit) pipeline.Step) func() steptest.Fixture {
	return func() steptest.Fixture {
		a := newAudit()
		return steptest.Fixture{Step: step(a), State: a.Rows}
	}
}

// keeper keeps the events it is given, and reads them later.
type keeper struct {
	mu   sync.Mutex
	kept []*pipeline.Event
}

func (k *keeper) Keep(_ context.Context, e *pipeline.Event) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kept = append(k.kept, e)
	return nil
}

func (k *keeper) Seen(context.Context) (any, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range k.kept {
		for _, tok := range e.Tokens() {
			seen[tok.ID] = true
		}
	}
	return seen, nil
}

const flawEnv = "STEPTEST_FLAW"

// TestSuiteCatchesFlaws runs the suite, in a child process each, against
// every flawed step, and expects the check named for it to fail.
func TestSuiteCatchesFlaws(t *testing.T) {
	if name := os.Getenv(flawEnv); name != "" {
		flaw, ok := flaws[name]
		if !ok {
			t.Fatalf("no flaw %q", name)
		}
		steptest.Run(t, func(t *testing.T) steptest.Fixture { return flaw.fixture() })
		return
	}
	t.Parallel()
	for name, flaw := range flaws {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatchesFlaws$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), flawEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a step that %s (%v):\n%s", name, err, out)
			}
			if want := "--- FAIL: TestSuiteCatchesFlaws/" + flaw.check + " "; !strings.Contains(string(out), want) {
				t.Fatalf("the suite failed a step that %s, but not in %s:\n%s", name, flaw.check, out)
			}
		})
	}
}
