package device_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
)

// TestPages: interlocutors, networks and the sessions that used each, a
// page at a time.
func TestPages(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg, dev, _ := setup(t, db)
		ctx := context.Background()
		// u1: three logins from Chrome (two networks), one from an iPhone;
		// u2: one from Chrome.
		a := login("u1", chromeMac, "198.51.100.1")
		b := login("u1", chromeMac, "198.51.100.2")
		c := login("u1", chromeMac, "198.51.100.1")
		d := login("u1", iphone, "198.51.100.3")
		e := login("u2", chromeMac, "198.51.100.1")
		for _, ev := range []*pipeline.Event{a, b, c, d, e} {
			run(t, reg, dev, ev)
		}
		// A refresh of a: a third token on Chrome from network 1.
		refresh := a.Pairs[0].Child
		more := &pipeline.Event{Kind: pipeline.Refreshed, UserID: "u1", UserAgent: chromeMac, ClientIP: "198.51.100.1",
			Pairs: []pipeline.Pair{{Child: pipeline.Token{ID: refresh.ID + "-a2", Type: "access", SessionID: refresh.SessionID, UserID: "u1",
				IssuedAt: refresh.IssuedAt, ExpiresAt: refresh.ExpiresAt}, Parent: &refresh}}}
		run(t, reg, dev, more)

		is, total, err := dev.Interlocutors(ctx, 1, 0)
		if err != nil || total != 2 || len(is) != 1 || is[0].Browser != "Safari" {
			t.Fatalf("Interlocutors(1, 0) = %+v, %d, %v", is, total, err)
		}
		is, _, err = dev.Interlocutors(ctx, 10, 1)
		if err != nil || len(is) != 1 || is[0].Browser != "Chrome" {
			t.Fatalf("Interlocutors(10, 1) = %+v, %v", is, err)
		}
		chrome := is[0].ID
		ns, total, err := dev.Networks(ctx, 10, 0)
		if err != nil || total != 3 || len(ns) != 3 || ns[0].IP != "198.51.100.3" {
			t.Fatalf("Networks = %+v, %d, %v", ns, total, err)
		}
		net1 := ns[2].ID

		got, total, err := dev.InterlocutorSessions(ctx, chrome, 2, 0)
		if err != nil || total != 4 || len(got) != 2 {
			t.Fatalf("InterlocutorSessions(chrome) = %+v, %d, %v", got, total, err)
		}
		// The most recently seen first: a was refreshed last.
		if got[0].SessionID != a.Pairs[0].Child.SessionID || got[0].UserID != "u1" || got[0].Tokens != 3 ||
			got[0].FirstSeen.IsZero() || got[0].LastSeen.Before(got[0].FirstSeen) {
			t.Fatalf("first = %+v", got[0])
		}
		if got[1].SessionID != e.Pairs[0].Child.SessionID || got[1].UserID != "u2" || got[1].Tokens != 2 {
			t.Fatalf("second = %+v", got[1])
		}
		rest, _, err := dev.InterlocutorSessions(ctx, chrome, 2, 2)
		if err != nil || len(rest) != 2 || rest[0].SessionID != c.Pairs[0].Child.SessionID || rest[1].SessionID != b.Pairs[0].Child.SessionID {
			t.Fatalf("page 2 = %+v, %v", rest, err)
		}
		onNet, total, err := dev.NetworkSessions(ctx, net1, 10, 0)
		if err != nil || total != 3 || len(onNet) != 3 {
			t.Fatalf("NetworkSessions(net1) = %+v, %d, %v", onNet, total, err)
		}
		if none, total, err := dev.NetworkSessions(ctx, 999999, 10, 0); err != nil || total != 0 || len(none) != 0 {
			t.Fatalf("NetworkSessions(unknown) = %+v, %d, %v", none, total, err)
		}

		if _, err := dev.Interlocutor(ctx, chrome); err != nil {
			t.Fatal(err)
		}
		if _, err := dev.Interlocutor(ctx, 999999); !errors.Is(err, device.ErrNotFound) {
			t.Fatalf("Interlocutor(unknown) = %v", err)
		}
		if _, err := dev.Network(ctx, 999999); !errors.Is(err, device.ErrNotFound) {
			t.Fatalf("Network(unknown) = %v", err)
		}
		if _, _, err := dev.Interlocutors(ctx, 0, 0); err == nil {
			t.Fatal("limit 0 accepted")
		}
		if _, _, err := dev.NetworkSessions(ctx, net1, 10, -1); err == nil {
			t.Fatal("negative offset accepted")
		}
		// A token recorded without the device step: its session keeps the
		// device of its latest connection.
		bare := &pipeline.Event{Kind: pipeline.Refreshed, UserID: "u1", Pairs: []pipeline.Pair{{Child: pipeline.Token{ID: refresh.ID + "-bare",
			Type: "access", SessionID: refresh.SessionID, UserID: "u1", IssuedAt: refresh.IssuedAt, ExpiresAt: refresh.ExpiresAt}, Parent: &refresh}}}
		if err := reg.RegisterPairs(ctx, bare); err != nil {
			t.Fatal(err)
		}
		// The latest device of a session: Chrome from network 1 for a.
		devs, err := dev.SessionDevices(ctx, []string{a.Pairs[0].Child.SessionID, d.Pairs[0].Child.SessionID})
		if err != nil || devs[a.Pairs[0].Child.SessionID].IP != "198.51.100.1" || devs[d.Pairs[0].Child.SessionID].Interlocutor.Browser != "Safari" {
			t.Fatalf("SessionDevices = %+v, %v", devs, err)
		}
	})
}
