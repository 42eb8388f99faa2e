package ginjwt

import (
	"context"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/users"
)

// Migrate creates or updates every table ginjwt keeps in db: the users table
// of the default user store. It is safe to run at every start.
func Migrate(ctx context.Context, db *gorm.DB) error {
	return users.Migrate(ctx, db)
}
