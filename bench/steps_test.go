package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// BenchmarkRegistrationSteps times each default pipeline step alone on a
// login-shaped event, and a bare round trip (SELECT 1) and a bare commit
// for scale.
func BenchmarkRegistrationSteps(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		db := openSQLite(b)
		if engine == "postgres" {
			db = openPostgres(b)
		}
		reg, err := registry.New(db, registry.Options{MaxLifetime: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		event := func() *pipeline.Event {
			n++
			now := time.Now()
			sid := fmt.Sprintf("%s-%d-%d", engine, time.Now().UnixNano(), n)
			r := pipeline.Token{ID: sid, Type: "refresh", SessionID: sid, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			a := pipeline.Token{ID: sid + "a", Type: "access", SessionID: sid, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
			return &pipeline.Event{Kind: pipeline.Obtained, UserID: "u1", Pairs: []pipeline.Pair{{Child: r}, {Child: a, Parent: &r}}}
		}
		ctx := context.Background()
		b.Run("db="+engine+"/step=select-1", func(b *testing.B) {
			for b.Loop() {
				db.Exec("SELECT 1")
			}
		})
		b.Run("db="+engine+"/step=RegisterPairs", func(b *testing.B) {
			for b.Loop() {
				if err := reg.RegisterPairs(ctx, event()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("db="+engine+"/step=RegisterPairs+ConnectUser", func(b *testing.B) {
			for b.Loop() {
				e := event()
				if err := reg.RegisterPairs(ctx, e); err != nil {
					b.Fatal(err)
				}
				if err := reg.ConnectUser(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPasswordCheck is one argon2id check with the default parameters
// (m=19 MiB, t=2, p=1): the cost a login pays on purpose.
func BenchmarkPasswordCheck(b *testing.B) {
	hash, err := users.HashPassword("correct horse battery staple", users.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := users.CheckPassword(hash, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkIssuePair is auth.Login without the registry: signing a session's
// refresh and access tokens (HS256), events included.
func BenchmarkIssuePair(b *testing.B) {
	auth, err := ginjwt.New(ginjwt.Config{SigningKey: secret, Routes: ginjwt.Routes{Paths: ginjwt.Paths{Obtain: "-"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		login(b, auth, alice)
	}
}
