package testdb

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestPrivatePostgresStopKillStart: the cluster serves, refuses while
// stopped, serves again on the same DSN, and keeps committed rows across a
// fast stop and an immediate one.
func TestPrivatePostgresStopKillStart(t *testing.T) {
	c := PrivatePostgres(t)
	db := c.DB(t)
	if err := db.Exec("CREATE TABLE kept (v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	for i, stop := range []func(testing.TB){c.Stop, c.Kill} {
		if err := db.Exec("INSERT INTO kept VALUES (?)", i).Error; err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
		stop(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := sqlDB.PingContext(ctx)
		cancel()
		if err == nil {
			t.Fatalf("stop %d: the stopped cluster answered a ping", i)
		}
		if ready(context.Background(), c.DSN()) {
			t.Fatalf("stop %d: the stopped cluster accepted a connection", i)
		}
		c.Start(t)
		var n int64
		// The pool may still hold connections the stop cut: database/sql
		// drops each on its first use, so a few tries are expected.
		for try := 0; ; try++ {
			err = db.Raw("SELECT count(*) FROM kept").Scan(&n).Error
			if err == nil || try == 5 {
				break
			}
		}
		if err != nil || n != int64(i+1) {
			t.Fatalf("after stop %d and start: %d rows, %v; want %d", i, n, err, i+1)
		}
	}
}

func TestPrivatePostgresCleanupRemovesEverything(t *testing.T) {
	var c *Cluster
	t.Run("inner", func(t *testing.T) { c = PrivatePostgres(t) })
	if c == nil {
		t.Fatal("no cluster")
	}
	if ready(context.Background(), c.DSN()) {
		t.Fatal("the cluster still serves after its test ended")
	}
	if isDir(c.root) {
		t.Fatalf("%s is still there after its test ended", c.root)
	}
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
