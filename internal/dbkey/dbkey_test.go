package dbkey_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/dbkey"
	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestDerivedHandlesShareTheKey: handles derived from one database have its
// key, inside a transaction too; another database has another.
func TestDerivedHandlesShareTheKey(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		key := dbkey.Of(db)
		derived := map[string]*gorm.DB{
			"WithContext": db.WithContext(context.Background()),
			"Session":     db.Session(&gorm.Session{SkipDefaultTransaction: true}),
			"Debug":       db.Debug(),
		}
		for name, d := range derived {
			if dbkey.Of(d) != key {
				t.Errorf("%s: another key", name)
			}
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if dbkey.Of(tx) != key {
				t.Error("a transaction: another key")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if dbkey.Of(testdb.SQLite(t)) == key {
			t.Error("another database has the same key")
		}
	})
}
