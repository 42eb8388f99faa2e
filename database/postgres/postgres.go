// Package postgres links PostgreSQL, through pgx, into ginjwt: import it
// for its side effects, and database.Open opens "postgres://…",
// "postgresql://…" and key=value ("host=… dbname=…") DSNs, and every token
// registry on PostgreSQL hears other instances' revocations at once through
// LISTEN/NOTIFY ([Listener]).
//
//	import (
//		"github.com/ginjwt/ginjwt/database"
//		_ "github.com/ginjwt/ginjwt/database/postgres"
//	)
//
//	db, err := database.Open("postgres://app@db.internal/app?sslmode=require")
//
// An application that opens PostgreSQL with its own gorm.Open imports it
// too, for the listener. A program that does not import this package does
// not link pgx through ginjwt.
package postgres

import (
	"fmt"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/database/internal/dialect"
	"github.com/ginjwt/ginjwt/internal/listener"
)

func init() {
	dialect.Register("postgres", open)
	// What registry.RegisterListener does; importing the registry here
	// would make an import cycle of the tests of packages it imports.
	listener.Set(Listener{})
}

// open opens a PostgreSQL DSN for database.Open.
func open(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	db, err := gorm.Open(postgres.Open(dsn), cfg)
	if err != nil {
		if db != nil {
			if sqlDB, e := db.DB(); e == nil {
				sqlDB.Close()
			}
		}
		return nil, fmt.Errorf("database: open postgres: %w", err)
	}
	return db, nil
}
