package users

import (
	"slices"
	"sync"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/dbkey"
)

// databaseCutOffs holds the cut-off of each database, by its dbkey.
var databaseCutOffs = struct {
	sync.Mutex
	m map[any]CutOffHook
}{m: map[any]CutOffHook{}}

// SetDatabaseCutOff makes h the cut-off of db: every Store on db (the same
// *gorm.DB, or one derived from it by WithContext, Session or a
// transaction) runs h in the transaction of SetPassword and
// SetActive(false), besides the hooks given to its own OnCutOff — whether
// Mount, the CLI or the application built the Store, and before or after h
// was set. The returned function removes h. The token registry sets its
// cut-off this way when it starts, so a password change anywhere in the
// process refuses the user's older tokens; an application sets nothing.
// A second h on the same db replaces the first.
func SetDatabaseCutOff(db *gorm.DB, h CutOffHook) (remove func()) {
	key := dbkey.Of(db)
	databaseCutOffs.Lock()
	defer databaseCutOffs.Unlock()
	databaseCutOffs.m[key] = h
	var once sync.Once
	return func() {
		once.Do(func() {
			databaseCutOffs.Lock()
			defer databaseCutOffs.Unlock()
			delete(databaseCutOffs.m, key)
		})
	}
}

// cutOffHooksNow returns the hooks a cut-off on s runs: the database's, then
// s's own.
func (s *Store) cutOffHooksNow() []CutOffHook {
	databaseCutOffs.Lock()
	h := databaseCutOffs.m[dbkey.Of(s.db)]
	databaseCutOffs.Unlock()
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	if h == nil {
		return slices.Clone(s.cutOffHooks)
	}
	return append([]CutOffHook{h}, s.cutOffHooks...)
}
