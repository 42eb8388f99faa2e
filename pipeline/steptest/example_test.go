package steptest_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/pipeline/steptest"
)

// audit is an application's own pipeline step, kept in memory: it notes
// each token once, with its session, user and client address. About the
// smallest step that passes the suite.
type audit struct {
	mu   sync.Mutex
	rows map[string]auditRow // by jti
}

type auditRow struct{ JTI, Session, User, IP string }

func newAudit() *audit { return &audit{rows: map[string]auditRow{}} }

// Record is the step.
func (a *audit) Record(ctx context.Context, e *pipeline.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: %w", err) // before any write
	}
	a.mu.Lock() // the event's rows land together
	defer a.mu.Unlock()
	for _, tok := range e.Tokens() {
		if _, seen := a.rows[tok.ID]; !seen { // a replay changes nothing
			a.rows[tok.ID] = auditRow{tok.ID, tok.SessionID, e.UserID, e.ClientIP}
		}
	}
	return nil
}

// Rows is the suite's view of what Record wrote: the rows by jti.
func (a *audit) Rows(context.Context) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rows := make([]auditRow, 0, len(a.rows))
	for _, r := range a.rows {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y auditRow) int { return cmp.Compare(x.JTI, y.JTI) })
	return rows, nil
}

// TestAudit is what a step's own test looks like.
func TestAudit(t *testing.T) {
	steptest.Run(t, func(t *testing.T) steptest.Fixture {
		a := newAudit()
		return steptest.Fixture{Step: a.Record, State: a.Rows}
	})
}

// The suite's events, which a Fixture's Events func may extend.
func ExampleEvents() {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range steptest.Events(at) {
		fmt.Printf("%-9s user=%q ip=%q tokens:", e.Kind, e.UserID, e.ClientIP)
		for _, p := range e.Pairs {
			parent := "-"
			if p.Parent != nil {
				parent = p.Parent.ID
			}
			fmt.Printf(" %s<%s", p.Child.ID, parent)
		}
		fmt.Println()
	}
	// Output:
	// obtained  user="steptest-user" ip="203.0.113.7" tokens: steptest-r1<- steptest-a1<steptest-r1
	// refreshed user="steptest-user" ip="2001:db8::1" tokens: steptest-r2<steptest-r1 steptest-a2<steptest-r2
	// updated   user="steptest-user" ip="203.0.113.8" tokens: steptest-r3<steptest-r2 steptest-a3<steptest-r3
	// manual    user="" ip="" tokens: steptest-m1<-
}
