// Package listener holds the token registry's notification listener
// between the package that provides it (database/postgres, which must not
// import the registry: the registry imports users, whose tests open
// databases) and the registry, which imports no driver. registry.Listener
// documents the contract; registry.RegisterListener sets it here too.
package listener

import (
	"context"
	"database/sql"
	"sync"
)

// Listener has registry.Listener's method.
type Listener interface {
	Listen(ctx context.Context, conn *sql.Conn, channel string, notify func()) error
}

var (
	mu      sync.RWMutex
	current Listener
)

// Set makes l the listener; nil removes it.
func Set(l Listener) {
	mu.Lock()
	defer mu.Unlock()
	current = l
}

// Get returns the listener, or nil.
func Get() Listener {
	mu.RLock()
	defer mu.RUnlock()
	return current
}
