package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// lateCancel is a context canceled at its n-th look (a call of Done or
// Err): the driver under a statement sees it end as the statement starts.
type lateCancel struct {
	context.Context
	cancel context.CancelFunc
	left   atomic.Int64
}

func newLateCancel(n int) *lateCancel {
	ctx, cancel := context.WithCancel(context.Background())
	c := &lateCancel{Context: ctx, cancel: cancel}
	c.left.Store(int64(n))
	return c
}

func (c *lateCancel) look() {
	if c.left.Add(-1) == 0 {
		c.cancel()
	}
}

func (c *lateCancel) Done() <-chan struct{} { c.look(); return c.Context.Done() }
func (c *lateCancel) Err() error            { c.look(); return c.Context.Err() }

// TestConnectUserCanceledAsItStarts: SQLite's driver skips a statement
// whose context ends as it starts and reports success; ConnectUser must
// not: either the user is connected or it fails with context.Canceled.
// Before the fix about one attempt in three returned nil with nothing
// connected.
func TestConnectUserCanceledAsItStarts(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	reg := newRegistry(t, db, registry.Options{})
	now := time.Now()
	for i := range 60 {
		refresh := token(fmt.Sprintf("r%d", i), "refresh", fmt.Sprintf("r%d", i), now, refreshTTL)
		access := token(fmt.Sprintf("a%d", i), "access", refresh.ID, now, accessTTL)
		e := &pipeline.Event{Kind: pipeline.Obtained, UserID: "u1", Pairs: []pipeline.Pair{{Child: refresh}, {Child: access, Parent: &refresh}}}
		if err := reg.RegisterPairs(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		ctx := newLateCancel(2 + i%2)
		err := reg.ConnectUser(ctx, e)
		ctx.cancel()
		n := count(t, db, &registry.TokenUserConnection{}, "token_id IN (SELECT id FROM ginjwt_tokens WHERE jti IN ?)", []string{refresh.ID, access.ID})
		if err == nil && n != 2 {
			t.Fatalf("attempt %d: ConnectUser returned nil with %d of 2 tokens connected", i, n)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("attempt %d: %v; want an error matching context.Canceled", i, err)
		}
	}
}
