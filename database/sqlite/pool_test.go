package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
)

func TestWritableDSN(t *testing.T) {
	cases := map[string]bool{
		driverDSN("app.db"):                        true,
		driverDSN("/var/lib/app.db?cache=private"): true,
		driverDSN(":memory:"):                      false,
		driverDSN("app.db?mode=ro"):                false,
		driverDSN("app.db?immutable=1"):            false,
		driverDSN("app.db?mode=memory"):            false,
	}
	for dsn, want := range cases {
		if got := writableDSN(dsn); got != want {
			t.Errorf("writableDSN(%q) = %v, want %v", dsn, got, want)
		}
	}
}

// TestSQLitePoolKeepsWritableConnections: the probe closes nothing that can
// write — also a connection opened while another one holds the write lock —
// and leaves the caller's busy timeout as it was.
func TestSQLitePoolKeepsWritableConnections(t *testing.T) {
	db, err := database.Open("sqlite:"+filepath.Join(t.TempDir(), "p.db?_pragma=busy_timeout(1234)"), database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	if err := db.Exec("CREATE TABLE n (v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := db.Exec("INSERT INTO n VALUES (?)", i).Error; err != nil {
			t.Fatal(err)
		}
	}
	if s := sqlDB.Stats(); s.OpenConnections != 1 || s.MaxIdleClosed != 0 {
		t.Fatalf("sequential writes did not reuse one connection: %+v", s)
	}

	// A writer holds the lock while the pool opens a second connection:
	// the probe sees SQLITE_BUSY, which means the connection can write.
	tx := db.Begin()
	if err := tx.Exec("INSERT INTO n VALUES (10)").Error; err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var timeout int
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 1234 {
		t.Fatalf("busy_timeout after the probe = %d, %v; want the DSN's 1234", timeout, err)
	}
	conn.Close()
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if s := sqlDB.Stats(); s.OpenConnections != 2 {
		t.Fatalf("the connection opened while another wrote was not pooled: %+v", s)
	}
	var n int64
	if err := db.Raw("SELECT count(*) FROM n").Scan(&n).Error; err != nil || n != 11 {
		t.Fatalf("%d rows, %v; want 11", n, err)
	}
}
