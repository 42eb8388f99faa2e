package device_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/pipeline/steptest"
	"github.com/ginjwt/ginjwt/registry"
)

// TestConnectInterlocutorConformance runs the pipeline step suite against
// ConnectInterlocutor on both engines, after RegisterPairs and ConnectUser,
// inside InTx (as ginjwt's pipeline runs it) and alone. The state it
// compares includes the NewDevice calls: a replay, a rolled-back attempt
// or a canceled one must not send a second "new sign-in" notice.
func TestConnectInterlocutorConformance(t *testing.T) {
	t.Parallel()
	engines := []struct {
		name string
		open func(testing.TB) *gorm.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}}
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			for _, inTx := range []bool{true, false} {
				name := "alone"
				if inTx {
					name = "InTx"
				}
				t.Run(name, func(t *testing.T) {
					steptest.Run(t, func(t *testing.T) steptest.Fixture {
						return deviceFixture(t, engine.open(t), inTx)
					})
				})
			}
		})
	}
}

var stepClock = func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }

func deviceFixture(t *testing.T, db *gorm.DB, inTx bool) steptest.Fixture {
	t.Helper()
	ctx := context.Background()
	if err := registry.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := device.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(db, registry.Options{MaxLifetime: 48 * time.Hour, Clock: stepClock})
	if err != nil {
		t.Fatal(err)
	}
	notices := &noticeLog{}
	dev := device.New(reg, device.Options{OnNewDevice: notices.add, Clock: stepClock})
	f := steptest.Fixture{
		Step:   dev.ConnectInterlocutor,
		Before: []pipeline.Step{reg.RegisterPairs, reg.ConnectUser},
		State:  func(ctx context.Context) (any, error) { return deviceFacts(ctx, db, notices) },
	}
	if inTx {
		f.Wrap = reg.InTx
	}
	return f
}

// noticeLog records the NewDevice calls.
type noticeLog struct {
	mu   sync.Mutex
	list []string
}

func (n *noticeLog) add(_ context.Context, d device.NewDevice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, d.UserID+" "+d.SessionID+" "+d.Interlocutor.Label())
}

// deviceState is the step suite's State of the device registry.
type deviceState struct {
	Connections   []struct{ JTI, Agent, IP, ForwardedFor string }
	Interlocutors []device.Interlocutor
	Networks      []device.InterlocutorNetwork
	NewDevices    []string
}

func deviceFacts(ctx context.Context, db *gorm.DB, notices *noticeLog) (any, error) {
	var st deviceState
	db = db.WithContext(ctx)
	err := db.Raw(`SELECT t.jti, i.hash AS agent, COALESCE(n.ip, '') AS ip, COALESCE(n.forwarded_for, '') AS forwarded_for
		FROM ginjwt_token_interlocutors c
		JOIN ginjwt_tokens t ON t.id = c.token_id
		JOIN ginjwt_interlocutors i ON i.id = c.interlocutor_id
		LEFT JOIN ginjwt_interlocutor_networks n ON n.id = c.network_id
		ORDER BY t.jti, i.hash`).Scan(&st.Connections).Error
	if err != nil {
		return nil, err
	}
	if err := db.Order("hash").Find(&st.Interlocutors).Error; err != nil {
		return nil, err
	}
	if err := db.Order("hash").Find(&st.Networks).Error; err != nil {
		return nil, err
	}
	for i := range st.Interlocutors {
		st.Interlocutors[i].ID, st.Interlocutors[i].CreatedAt = 0, st.Interlocutors[i].CreatedAt.UTC()
	}
	for i := range st.Networks {
		st.Networks[i].ID, st.Networks[i].CreatedAt = 0, st.Networks[i].CreatedAt.UTC()
	}
	notices.mu.Lock()
	st.NewDevices = slices.Sorted(slices.Values(notices.list))
	notices.mu.Unlock()
	return st, nil
}
