package device_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// session is the pipeline event of a login by user from ua at ip whose
// tokens expire at exp.
func session(user, ua, ip string, exp time.Time) *pipeline.Event {
	e := login(user, ua, ip)
	e.Pairs[0].Child.ExpiresAt = exp
	e.Pairs[1].Child.ExpiresAt = exp
	e.Pairs[1].Parent.ExpiresAt = exp
	return e
}

// agent is a distinct User-Agent header.
func agent(i int) string { return fmt.Sprintf("TestClient/%d.0 (X11; Linux x86_64)", i) }

// registerWith runs the default registration steps of reg and dev in one
// transaction, as ginjwt does.
func registerWith(ctx context.Context, reg *registry.Registry, dev *device.Registry, e *pipeline.Event) error {
	steps := []pipeline.Step{reg.RegisterPairs, reg.ConnectUser, dev.ConnectInterlocutor}
	return pipeline.NewRunner(steps, pipeline.Options{Wrap: reg.InTx}).Run(ctx, e)
}

// dangling counts connections whose interlocutor or network row is gone.
func dangling(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	err := db.Raw(`SELECT count(*) FROM ginjwt_token_interlocutors c
LEFT JOIN ginjwt_interlocutors i ON i.id = c.interlocutor_id
LEFT JOIN ginjwt_interlocutor_networks n ON n.id = c.network_id
WHERE i.id IS NULL OR (c.network_id IS NOT NULL AND n.id IS NULL)`).Scan(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestArchiveTakesUnusedDevices: 100 refreshes with distinct User-Agents
// and IPs add 100 interlocutors and networks; archiving their tokens takes
// them, keeping those a live token still uses. An instance that still
// remembers a deleted row's ID records it again on its next login.
func TestArchiveTakesUnusedDevices(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		reg, dev, _ := setup(t, db)
		now := time.Now()
		for i := range 100 {
			run(t, reg, dev, session("alice", agent(i), fmt.Sprintf("198.51.100.%d", i), now.Add(-time.Hour)))
		}
		// A live session shares the first agent and address.
		run(t, reg, dev, session("alice", agent(0), "198.51.100.0", now.Add(time.Hour)))
		if n := count(t, db, &device.Interlocutor{}); n != 100 {
			t.Fatalf("%d interlocutors before archiving, want 100", n)
		}
		// Another instance remembers the IDs of agent 1's rows.
		reg2, err := registry.New(db, registry.Options{MaxLifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		dev2 := device.New(reg2, device.Options{})
		run(t, reg2, dev2, session("bob", agent(1), "198.51.100.1", now.Add(-time.Hour)))

		archived, err := reg.Archive(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if archived != 2*101 {
			t.Fatalf("archived %d tokens, want %d", archived, 2*101)
		}
		if n := count(t, db, &device.Interlocutor{}); n != 1 {
			t.Fatalf("%d interlocutors after archiving, want the live session's 1", n)
		}
		if n := count(t, db, &device.InterlocutorNetwork{}); n != 1 {
			t.Fatalf("%d networks after archiving, want the live session's 1", n)
		}
		var kept device.Interlocutor
		if err := db.Take(&kept).Error; err != nil || kept.Raw != agent(0) {
			t.Fatalf("kept %q (%v), want the live session's agent", kept.Raw, err)
		}

		// The other instance logs in from agent 1 again: its remembered
		// IDs are gone, and it records the rows anew.
		again := session("bob", agent(1), "198.51.100.1", now.Add(time.Hour))
		if err := registerWith(ctx, reg2, dev2, again); err != nil {
			t.Fatalf("a login with remembered IDs the archiver deleted: %v", err)
		}
		if n := count(t, db, &device.Interlocutor{}); n != 2 {
			t.Fatalf("%d interlocutors, want 2", n)
		}
		if n := count(t, db, &device.TokenInterlocutorConnection{}); n != 4 {
			t.Fatalf("%d connections, want the 2 live sessions' 4", n)
		}
		if n := dangling(t, db); n != 0 {
			t.Fatalf("%d connections to rows that are gone", n)
		}
		devices, err := dev2.SessionDevices(ctx, []string{again.Pairs[0].Child.SessionID})
		if err != nil || devices[again.Pairs[0].Child.SessionID].IP != "198.51.100.1" {
			t.Fatalf("the new session's device: %+v %v", devices, err)
		}
	})
}

// TestArchiveDuringLogins: logins from the very agents and addresses the
// archiver is deleting, on two instances at once, all succeed and connect
// to rows that exist; the archiver never fails; what no live token uses is
// gone at the end.
func TestArchiveDuringLogins(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		reg, dev, _ := setup(t, db)
		reg2, err := registry.New(db, registry.Options{MaxLifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		dev2 := device.New(reg2, device.Options{})
		instances := []struct {
			reg *registry.Registry
			dev *device.Registry
		}{{reg, dev}, {reg2, dev2}}

		const rounds, agents, loginsPerRound = 6, 8, 24
		now := time.Now()
		live := map[string]bool{}
		var liveMu sync.Mutex
		for round := range rounds {
			// Expired sessions from every agent, registered through both
			// instances, so both remember the IDs.
			for a := range agents {
				in := instances[a%2]
				if err := registerWith(ctx, in.reg, in.dev, session("old", agent(round*agents+a), fmt.Sprintf("203.0.113.%d", a), now.Add(-time.Hour))); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, loginsPerRound+1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := reg.Archive(ctx, now); err != nil {
					errs <- fmt.Errorf("archive: %w", err)
				}
			}()
			sem := make(chan struct{}, 4)
			for i := range loginsPerRound {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					// Half the agents of this round get a live login.
					ua, ip := agent(round*agents+i%(agents/2)), fmt.Sprintf("203.0.113.%d", i%(agents/2))
					in := instances[i%2]
					if err := registerWith(ctx, in.reg, in.dev, session("new", ua, ip, now.Add(time.Hour))); err != nil {
						errs <- fmt.Errorf("login: %w", err)
						return
					}
					liveMu.Lock()
					live[ua] = true
					liveMu.Unlock()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := dangling(t, db); n != 0 {
				t.Fatalf("round %d: %d connections to rows that are gone", round, n)
			}
		}
		if _, err := reg.Archive(ctx, now); err != nil {
			t.Fatal(err)
		}
		var liveConns int64
		if err := db.Raw(`SELECT count(*) FROM ginjwt_token_interlocutors c JOIN ginjwt_tokens t ON t.id = c.token_id`).Scan(&liveConns).Error; err != nil {
			t.Fatal(err)
		}
		if liveConns != 2*rounds*loginsPerRound || count(t, db, &device.TokenInterlocutorConnection{}) != liveConns {
			t.Fatalf("%d connections of live tokens, want %d", liveConns, 2*rounds*loginsPerRound)
		}
		if n := count(t, db, &device.Interlocutor{}); n != int64(len(live)) {
			t.Fatalf("%d interlocutors, want the %d the live sessions use", n, len(live))
		}
		if n := count(t, db, &device.InterlocutorNetwork{}); n != agents/2 {
			t.Fatalf("%d networks, want the %d the live sessions use", n, agents/2)
		}
		if n := dangling(t, db); n != 0 {
			t.Fatalf("%d connections to rows that are gone", n)
		}
	})
}

// TestForeignKeysGuardDevices: the database itself refuses to delete an
// interlocutor or network a connection uses, which the archiver and the
// logins rely on.
func TestForeignKeysGuardDevices(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg, dev, _ := setup(t, db)
		run(t, reg, dev, login("alice", chromeMac, "192.0.2.1"))
		if err := db.Exec("DELETE FROM ginjwt_interlocutors").Error; err == nil {
			t.Fatal("an interlocutor in use was deleted")
		}
		if err := db.Exec("DELETE FROM ginjwt_interlocutor_networks").Error; err == nil {
			t.Fatal("a network in use was deleted")
		}
	})
}
