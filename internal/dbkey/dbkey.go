// Package dbkey tells which database a *gorm.DB handle stands for, so that
// packages can keep state per database: every handle derived from one
// gorm.Open — by WithContext, Session, Begin or Transaction — has the same
// key, although each of those copies the handle's *gorm.Config.
package dbkey

import (
	"reflect"

	"gorm.io/gorm"
)

// Of returns db's key: its connection pool (the *sql.DB, or the pool gorm
// or ginjwt wraps around it), which every derived handle shares. A pool of
// a type that cannot be a map key falls back to db's *gorm.Config, shared
// by fewer handles.
func Of(db *gorm.DB) any {
	pool := db.Config.ConnPool
	if pool != nil && reflect.TypeOf(pool).Comparable() {
		return pool
	}
	return db.Config
}
