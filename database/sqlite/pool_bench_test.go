package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	gsqlite "github.com/glebarez/sqlite"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
)

// BenchmarkSQLiteNewConnection: the cost of opening a connection (a query
// on a pool that keeps none idle), with the write probe (pool) and without
// (driver).
func BenchmarkSQLiteNewConnection(b *testing.B) {
	path := filepath.Join(b.TempDir(), "b.db")
	db, err := database.Open("sqlite:"+path, database.WithLogger(logger.Discard))
	if err != nil {
		b.Fatal(err)
	}
	pool, _ := db.DB()
	defer pool.Close()
	if err := db.Exec("CREATE TABLE n (v INTEGER)").Error; err != nil {
		b.Fatal(err)
	}
	plain, err := sql.Open(gsqlite.DriverName, driverDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	for name, p := range map[string]*sql.DB{"pool": pool, "driver": plain} {
		b.Run(name, func(b *testing.B) {
			p.SetMaxIdleConns(0)
			for b.Loop() {
				var n int
				if err := p.QueryRow("SELECT count(*) FROM n").Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
