package ginjwt

import (
	"context"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/users"
)

// Migrate creates or updates every table ginjwt keeps in db: the users of
// the default user store, the token registry, the device registry and the
// login throttle's SQL store. It is safe to run at every start.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if err := users.Migrate(ctx, db); err != nil {
		return err
	}
	if err := registry.Migrate(ctx, db); err != nil {
		return err
	}
	if err := device.Migrate(ctx, db); err != nil {
		return err
	}
	return throttle.Migrate(ctx, db)
}
