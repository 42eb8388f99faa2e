package users

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Migrate creates or updates the "ginjwt_users" table and its indexes
// (unique username; unique e-mail where not empty) with GORM's AutoMigrate.
// It is safe to run on every start. It fails with the database's error,
// wrapped.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if err := db.WithContext(ctx).AutoMigrate(&User{}); err != nil {
		return fmt.Errorf("users: migrate: %w", err)
	}
	return nil
}
