package throttle_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/throttle/storetest"
)

func TestSQLStore(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		if err := throttle.Migrate(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		storetest.Run(t, func(*testing.T) throttle.Store { return throttle.NewSQL(db) })
	})
}
