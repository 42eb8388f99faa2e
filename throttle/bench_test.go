package throttle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/internal/testredis"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/throttle/redisstore"
)

// BenchmarkStore is what a shared store adds to one login: Check, Admit
// and End (a success), on three buckets, one store round after another.
func BenchmarkStore(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) throttle.Store
	}{
		{"sql-sqlite", func(b *testing.B) throttle.Store {
			db := testdb.SQLite(b)
			if err := throttle.Migrate(context.Background(), db); err != nil {
				b.Fatal(err)
			}
			return throttle.NewSQL(db)
		}},
		{"sql-postgres", func(b *testing.B) throttle.Store {
			db := testdb.Postgres(b)
			if err := throttle.Migrate(context.Background(), db); err != nil {
				b.Fatal(err)
			}
			return throttle.NewSQL(db)
		}},
		{"redis", func(b *testing.B) throttle.Store {
			c, prefix := testredis.Client(b)
			return redisstore.New(c, prefix)
		}},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			st := s.open(b)
			ctx := context.Background()
			now := time.Now()
			i := 0
			for b.Loop() {
				i++
				a := &throttle.Attempt{ID: fmt.Sprint("a", i), Window: 15 * time.Minute, Lease: time.Minute, Buckets: []throttle.Bucket{
					{Key: fmt.Sprint("a:", i%100), Limit: 10, ClearOnSuccess: true}, {Key: "i:ip", Limit: 1 << 30}, {Key: fmt.Sprint("u:", i%100), Limit: 10, ClearOnSuccess: true}}}
				if _, err := st.Check(ctx, a, now); err != nil {
					b.Fatal(err)
				}
				if d, err := st.Admit(ctx, a, now); err != nil || !d.Admitted {
					b.Fatal(d, err)
				}
				if err := st.End(ctx, a, throttle.Succeeded, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
