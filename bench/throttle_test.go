package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/throttle/redisstore"
)

// BenchmarkLoginThrottle is a login (cheap hash, synchronous registration)
// with the throttle counting in this process's memory, in the database
// (the SQL store) and in Redis at 127.0.0.1:6379: what sharing the
// throttle between instances costs a login.
func BenchmarkLoginThrottle(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, store := range []string{"memory", "sql", "redis"} {
			b.Run("db="+engine+"/store="+store, func(b *testing.B) {
				db := openSQLite(b)
				if engine == "postgres" {
					db = openPostgres(b)
				}
				r, auth := loginEngine(b, db, func(c *ginjwt.Config) {
					c.Limits.Throttle = ginjwt.Throttle{PerAccount: 1 << 30, PerIP: 1 << 30}
					switch store {
					case "memory":
						c.Limits.Throttle.Local = true
					case "sql":
						c.Limits.Throttle.Store = throttle.NewSQL(db)
					case "redis":
						client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
						b.Cleanup(func() { client.Close() })
						p := make([]byte, 8)
						_, _ = rand.Read(p)
						c.Limits.Throttle.Store = redisstore.New(client, "ginjwt-bench:"+hex.EncodeToString(p)+":")
					}
				})
				w := newSink()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					r.ServeHTTP(w, loginRequest())
				}
				b.StopTimer()
				if err := auth.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
