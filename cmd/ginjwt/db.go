package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// dbFlag adds -db to fs; its value defaults to $GINJWT_DB.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "the database `DSN`: sqlite:PATH, or a PostgreSQL URL or key=value DSN (default $GINJWT_DB)")
}

// openDB opens the database of -db or $GINJWT_DB; closeDB closes it.
func openDB(dsn string) (db *gorm.DB, closeDB func(), err error) {
	if dsn == "" {
		dsn = os.Getenv("GINJWT_DB")
	}
	if dsn == "" {
		return nil, nil, usageError("-db (or $GINJWT_DB) is required: sqlite:PATH or a PostgreSQL URL")
	}
	db, err = database.Open(dsn, database.WithLogger(logger.Discard))
	if err != nil {
		return nil, nil, err
	}
	closeDB = func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}
	return db, closeDB, nil
}

// lifetimeFlag adds -max-token-lifetime, for commands that revoke.
func lifetimeFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("max-token-lifetime", 720*time.Hour,
		"the longest any token of the service lives (its refresh TTL): how long running services must remember the revocation (a `DURATION` such as 720h)")
}

// checkLifetime validates -max-token-lifetime.
func checkLifetime(d time.Duration) error {
	if d <= 0 {
		return usageError("-max-token-lifetime must be positive")
	}
	return nil
}

// openRegistry returns the token registry on db, logging its warnings to
// standard error. It is not started: commands that read the in-memory view
// start it themselves.
func openRegistry(e env, db *gorm.DB, lifetime time.Duration) (*registry.Registry, error) {
	if err := checkLifetime(lifetime); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return registry.New(db, registry.Options{MaxLifetime: lifetime, Logger: log})
}

// startRegistry starts reg (it reads the live revocation log, which the
// sessions list consults) and returns the function that stops it.
func startRegistry(ctx context.Context, reg *registry.Registry) (stop func(), err error) {
	if err := reg.Start(ctx); err != nil {
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = reg.Close(ctx)
	}, nil
}

// userFlags select one user: -username or -user-id.
type userFlags struct{ username, id *string }

func addUserFlags(fs *flag.FlagSet) userFlags {
	return userFlags{
		username: fs.String("username", "", "the user's user`name` (or -user-id)"),
		id:       fs.String("user-id", "", "the user's `ID` (or -username)"),
	}
}

// check makes it a usage error to name no user, or two.
func (f userFlags) check() error {
	switch {
	case *f.username == "" && *f.id == "":
		return usageError("-username or -user-id is required")
	case *f.username != "" && *f.id != "":
		return usageError("give -username or -user-id, not both")
	}
	return nil
}

// find returns the user the flags name.
func (f userFlags) find(ctx context.Context, store *users.Store) (*users.User, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	var u *users.User
	var err error
	if *f.id != "" {
		u, err = store.Find(ctx, *f.id)
	} else {
		u, err = store.FindByUsername(ctx, *f.username)
	}
	switch {
	case errors.Is(err, users.ErrNotFound) && *f.id != "":
		return nil, fmt.Errorf("no user has the ID %s", clean(*f.id))
	case errors.Is(err, users.ErrNotFound):
		return nil, fmt.Errorf("no user is named %s", clean(*f.username))
	}
	return u, err
}
