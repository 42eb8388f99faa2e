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

const (
	chromeMac  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	firefoxWin = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
	iphone     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)

// setup migrates db and returns the token registry, the device registry and
// a record of the NewDevice calls.
func setup(t *testing.T, db *gorm.DB) (*registry.Registry, *device.Registry, *newDevices) {
	t.Helper()
	ctx := context.Background()
	if err := registry.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := device.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := device.Migrate(ctx, db); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	reg, err := registry.New(db, registry.Options{MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	seen := &newDevices{}
	return reg, device.New(reg, device.Options{OnNewDevice: seen.add}), seen
}

type newDevices struct {
	mu   sync.Mutex
	list []device.NewDevice
}

func (n *newDevices) add(_ context.Context, d device.NewDevice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, d)
}

func (n *newDevices) labels() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, d := range n.list {
		out = append(out, d.UserID+":"+d.Interlocutor.Label())
	}
	return out
}

var seq struct {
	sync.Mutex
	n int
}

// login is the pipeline event of one login by user from ua at ip.
func login(user, ua, ip string, chain ...string) *pipeline.Event {
	seq.Lock()
	seq.n++
	sid := fmt.Sprintf("s%d", seq.n)
	seq.Unlock()
	now := time.Now()
	refresh := pipeline.Token{ID: sid, Type: "refresh", SessionID: sid, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	access := pipeline.Token{ID: sid + "-a", Type: "access", SessionID: sid, UserID: user, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	return &pipeline.Event{Kind: pipeline.Obtained, UserID: user, UserAgent: ua, ClientIP: ip, ForwardedFor: chain, Time: now,
		Pairs: []pipeline.Pair{{Child: refresh}, {Child: access, Parent: &refresh}}}
}

// run registers e through the default pipeline.
func run(t testing.TB, reg *registry.Registry, dev *device.Registry, e *pipeline.Event) {
	t.Helper()
	steps := []pipeline.Step{reg.RegisterPairs, reg.ConnectUser, dev.ConnectInterlocutor}
	if err := pipeline.NewRunner(steps, pipeline.Options{}).Run(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, db *gorm.DB, model any) int64 {
	t.Helper()
	var n int64
	if err := db.Model(model).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestThousandLoginsThreeBrowsers: interlocutors are deduplicated by the
// header's hash, however many logins share it, under concurrency.
func TestThousandLoginsThreeBrowsers(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg, dev, _ := setup(t, db)
		steps := []pipeline.Step{reg.RegisterPairs, reg.ConnectUser, dev.ConnectInterlocutor}
		runner := pipeline.NewRunner(steps, pipeline.Options{Async: true, Workers: 4, QueueSize: 64})
		agents := []string{chromeMac, firefoxWin, iphone}
		for i := range 1000 {
			e := login(fmt.Sprintf("u%d", i%50), agents[i%3], fmt.Sprintf("198.51.100.%d", i%7))
			if err := runner.Run(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		if err := runner.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, &device.Interlocutor{}); n != 3 {
			t.Fatalf("%d interlocutor rows, want 3", n)
		}
		if n := count(t, db, &device.InterlocutorNetwork{}); n != 7 {
			t.Fatalf("%d network rows, want 7", n)
		}
		if n := count(t, db, &device.TokenInterlocutorConnection{}); n != 2000 {
			t.Fatalf("%d connections, want 2000 (two tokens a login)", n)
		}
	})
}

func TestNewDeviceAndSessionDevices(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg, dev, seen := setup(t, db)
		first := login("alice", chromeMac, "203.0.113.7")
		run(t, reg, dev, first)
		run(t, reg, dev, login("alice", chromeMac, "203.0.113.8")) // same browser, another IP
		phone := login("alice", iphone, "2001:db8::7")
		run(t, reg, dev, phone)
		run(t, reg, dev, login("bob", chromeMac, "198.51.100.1")) // new for bob
		proxied := login("carol", firefoxWin, "192.0.2.44", "192.0.2.44", "10.0.0.2")
		run(t, reg, dev, proxied)
		want := []string{"alice:Chrome 120 on macOS", "alice:Safari 17 on iOS", "bob:Chrome 120 on macOS", "carol:Firefox 121 on Windows"}
		if got := seen.labels(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("NewDevice calls %v, want %v", got, want)
		}
		// A refresh from a known device is not a login: no call, and the
		// pipeline run again (a retry) does not call twice.
		run(t, reg, dev, first)
		if n := len(seen.labels()); n != 4 {
			t.Fatalf("%d NewDevice calls after a retry", n)
		}

		devices, err := dev.SessionDevices(context.Background(), []string{first.Pairs[0].Child.SessionID, phone.Pairs[0].Child.SessionID, proxied.Pairs[0].Child.SessionID, "unknown"})
		if err != nil {
			t.Fatal(err)
		}
		if len(devices) != 3 {
			t.Fatalf("%d devices, want 3: %+v", len(devices), devices)
		}
		if d := devices[first.Pairs[0].Child.SessionID]; d.Label != "Chrome 120 on macOS" || d.IP != "203.0.113.7" || d.Interlocutor.OS != "macOS" {
			t.Fatalf("first session: %+v", d)
		}
		if d := devices[phone.Pairs[0].Child.SessionID]; d.IP != "2001:db8::7" || !d.Interlocutor.Mobile {
			t.Fatalf("phone session: %+v %+v", d, d.Interlocutor)
		}
		var n device.InterlocutorNetwork
		if err := db.Where("ip = ?", "192.0.2.44").Take(&n).Error; err != nil || n.ForwardedFor != "192.0.2.44, 10.0.0.2" {
			t.Fatalf("proxied network: %+v %v", n, err)
		}
	})
}

func TestConnectByHandAndArchive(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		reg, dev, _ := setup(t, db)
		e := login("dave", "", "")
		if err := reg.RegisterPairs(ctx, e); err != nil {
			t.Fatal(err)
		}
		var tokens []registry.Token
		if err := reg.Tokens(ctx).Scopes(registry.InSession(e.Pairs[0].Child.SessionID)).Find(&tokens).Error; err != nil {
			t.Fatal(err)
		}
		i := &device.Interlocutor{Agent: device.Parse(firefoxWin)}
		conns, err := dev.Connect(ctx, i, tokens, device.NewNetwork("192.0.2.9", nil))
		if err != nil || len(conns) != 2 || i.ID == 0 || conns[0].NetworkID == nil {
			t.Fatalf("Connect: %+v %v", conns, err)
		}
		again, err := dev.Connect(ctx, &device.Interlocutor{Agent: device.Parse(firefoxWin)}, tokens, nil)
		if err != nil || len(again) != 2 {
			t.Fatalf("second Connect: %v", err)
		}
		if n := count(t, db, &device.TokenInterlocutorConnection{}); n != 2 {
			t.Fatalf("%d connections after connecting twice, want 2", n)
		}
		if _, err := dev.Connect(ctx, nil, tokens, nil); err == nil {
			t.Fatal("Connect without an interlocutor succeeded")
		}
		// Archiving the tokens takes their connections.
		if _, err := reg.Archive(ctx, time.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, &device.TokenInterlocutorConnection{}); n != 0 {
			t.Fatalf("%d connections left after archiving their tokens", n)
		}
	})
}
