package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// A step of the application's own: it counts the sessions each user
// opened. ginjwt's Config.Registry.Pipeline appends it to the default steps;
// here a Runner runs it alone. Steps may run again for the same event (the
// journal replays what a crash interrupted), so a step keys its effect by
// the tokens' IDs to stay idempotent.
func ExampleStep() {
	var (
		mu   sync.Mutex
		seen = map[string]string{} // session ID → user ID
	)
	countSessions := func(ctx context.Context, e *pipeline.Event) error {
		if e.Kind != pipeline.Obtained {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		for _, p := range e.Pairs {
			seen[p.Child.SessionID] = e.UserID
		}
		return nil
	}
	runner := pipeline.NewRunner([]pipeline.Step{countSessions}, pipeline.Options{})
	now := time.Now()
	login := &pipeline.Event{Kind: pipeline.Obtained, UserID: "u-1", Time: now, Pairs: []pipeline.Pair{
		{Child: pipeline.Token{ID: "r1", Type: "refresh", SessionID: "r1", UserID: "u-1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
	}}
	for range 2 { // the same event twice, as a replay would
		if err := runner.Run(context.Background(), login); err != nil {
			panic(err)
		}
	}
	fmt.Println("sessions:", len(seen))
	// Output:
	// sessions: 1
}
