package registry_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/pipeline/steptest"
	"github.com/ginjwt/ginjwt/registry"
)

// TestStepsConformance runs the pipeline step suite against RegisterPairs
// and ConnectUser on both engines, inside InTx (as ginjwt's pipeline runs
// them) and alone (as an application's own Runner may).
func TestStepsConformance(t *testing.T) {
	t.Parallel()
	steps := []struct {
		name   string
		step   func(r *registry.Registry) pipeline.Step
		before func(r *registry.Registry) []pipeline.Step
	}{
		{"RegisterPairs", func(r *registry.Registry) pipeline.Step { return r.RegisterPairs }, nil},
		{"ConnectUser", func(r *registry.Registry) pipeline.Step { return r.ConnectUser },
			func(r *registry.Registry) []pipeline.Step { return []pipeline.Step{r.RegisterPairs} }},
	}
	engines := []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}}
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range steps {
				for _, inTx := range []bool{true, false} {
					name := s.name + "/alone"
					if inTx {
						name = s.name + "/InTx"
					}
					t.Run(name, func(t *testing.T) {
						steptest.Run(t, func(t *testing.T) steptest.Fixture {
							db := engine.open(t)
							reg := newRegistry(t, db, registry.Options{Clock: fixedClock})
							f := steptest.Fixture{Step: s.step(reg), State: tokenFacts(db)}
							if s.before != nil {
								f.Before = s.before(reg)
							}
							if inTx {
								f.Wrap = reg.InTx
							}
							return f
						})
					})
				}
			}
		})
	}
}

// fixedClock is the registry's clock in the step suite: created_at columns
// are then alike in every fixture.
func fixedClock() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }

// tokenFact is a token row as the step suite compares it: by jti, without
// surrogate keys.
type tokenFact struct {
	JTI, Type, SessionID, Parent string
	IssuedAt, ExpiresAt          time.Time
	Generation                   int64
	Revoked                      bool
	Users                        string // the connected user IDs, comma-separated
}

// tokenFacts returns the step suite's State of the token registry on db:
// every token, its parent's jti and its users, ordered by jti.
func tokenFacts(db *gorm.DB) func(ctx context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		var facts []tokenFact
		err := db.WithContext(ctx).Raw(`SELECT t.jti, t.type, t.session_id, COALESCE(p.jti, '') AS parent,
			t.issued_at, t.expires_at, t.generation, t.revoked_at IS NOT NULL AS revoked
			FROM ginjwt_tokens t LEFT JOIN ginjwt_tokens p ON p.id = t.parent_id ORDER BY t.jti`).Scan(&facts).Error
		if err != nil {
			return nil, err
		}
		var conns []struct{ JTI, UserID string }
		err = db.WithContext(ctx).Raw(`SELECT t.jti, u.user_id FROM ginjwt_token_users u
			JOIN ginjwt_tokens t ON t.id = u.token_id ORDER BY t.jti, u.user_id`).Scan(&conns).Error
		if err != nil {
			return nil, err
		}
		users := map[string]string{}
		for _, c := range conns {
			if users[c.JTI] != "" {
				users[c.JTI] += ","
			}
			users[c.JTI] += c.UserID
		}
		for i := range facts {
			facts[i].IssuedAt, facts[i].ExpiresAt = facts[i].IssuedAt.UTC(), facts[i].ExpiresAt.UTC()
			facts[i].Users = users[facts[i].JTI]
		}
		return facts, nil
	}
}
