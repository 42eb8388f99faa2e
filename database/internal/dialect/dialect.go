// Package dialect holds the engines that database.Open can open: each
// engine's package (database/sqlite, database/postgres) registers its
// opener when it is imported, so a program links only the drivers it
// imports.
package dialect

import (
	"sync"

	"gorm.io/gorm"
)

// Opener opens dsn, the whole DSN given to database.Open, with cfg. Its
// errors are what database.Open returns.
type Opener func(dsn string, cfg *gorm.Config) (*gorm.DB, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes open the opener of engine. It panics when open is nil or
// engine already has one: two packages claim the same engine.
func Register(engine string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if open == nil {
		panic("database: Register of a nil opener for " + engine)
	}
	if _, dup := openers[engine]; dup {
		panic("database: Register called twice for " + engine)
	}
	openers[engine] = open
}

// Lookup returns the opener of engine, or nil when no imported package
// registered one.
func Lookup(engine string) Opener {
	mu.RLock()
	defer mu.RUnlock()
	return openers[engine]
}
