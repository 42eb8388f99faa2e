package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// dbFlag adds -db to a command, default $GINJWT_DB.
func dbFlag(fsDSN *string) string {
	if *fsDSN != "" {
		return *fsDSN
	}
	return os.Getenv("GINJWT_DB")
}

// openDB opens the database a command names.
func openDB(dsn string) (*gorm.DB, func(), error) {
	if dsn == "" {
		return nil, nil, fmt.Errorf("%w: -db (or $GINJWT_DB) is required: sqlite:PATH or a PostgreSQL URL", errUsage)
	}
	db, err := database.Open(dsn, database.WithLogger(logger.Discard))
	if err != nil {
		return nil, nil, err
	}
	closeDB := func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}
	return db, closeDB, nil
}

func migrateCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate")
	dsn := fs.String("db", "", "database: sqlite:PATH or a PostgreSQL URL (default $GINJWT_DB)")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, closeDB, err := openDB(dbFlag(dsn))
	if err != nil {
		return err
	}
	defer closeDB()
	if err := ginjwt.Migrate(ctx, db); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrated")
	return nil
}

func userCreateCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "user create")
	dsn := fs.String("db", "", "database: sqlite:PATH or a PostgreSQL URL (default $GINJWT_DB)")
	username := fs.String("username", "", "the new user's username (required)")
	email := fs.String("email", "", "the new user's e-mail (optional; may be used to log in)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	perms := fs.String("perms", "", "comma-separated permissions, e.g. perm1,reports")
	staff := fs.Bool("staff", false, "mark the user as staff")
	superuser := fs.Bool("superuser", false, "make the user a superuser (holds every permission)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("%w: -username is required", errUsage)
	}
	password, err := readPassword(e, *fromStdin)
	if err != nil {
		return err
	}
	db, closeDB, err := openDB(dbFlag(dsn))
	if err != nil {
		return err
	}
	defer closeDB()
	if err := ginjwt.Migrate(ctx, db); err != nil {
		return err
	}
	u := users.NewUser(*username)
	u.Email = *email
	u.IsStaff, u.IsSuperuser = *staff, *superuser
	for _, p := range strings.Split(*perms, ",") {
		if p = strings.TrimSpace(p); p != "" {
			u.Perms = append(u.Perms, p)
		}
	}
	if err := users.NewStore(db).Create(ctx, u, password); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created user %s (id %s)\n", u.Username, u.ID)
	return nil
}

func userSetPasswordCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "user set-password")
	dsn := fs.String("db", "", "database: sqlite:PATH or a PostgreSQL URL (default $GINJWT_DB)")
	username := fs.String("username", "", "the user's username (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (required)")
	lifetime := fs.Duration("max-token-lifetime", 720*time.Hour, "the longest any token of the service lives (its refresh TTL): how long the cut-off must be remembered")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("%w: -username is required", errUsage)
	}
	password, err := readPassword(e, *fromStdin)
	if err != nil {
		return err
	}
	db, closeDB, err := openDB(dbFlag(dsn))
	if err != nil {
		return err
	}
	defer closeDB()
	reg, err := registry.New(db, registry.Options{MaxLifetime: *lifetime})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	store := users.NewStore(db)
	store.OnCutOff(reg.CutOffInTx) // tokens issued before now stop working, in every instance
	u, err := store.FindByUsername(ctx, *username)
	if err != nil {
		return err
	}
	if err := store.SetPassword(ctx, u.ID, password); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of %s changed; tokens issued before now are cut off\n", u.Username)
	return nil
}

func archiveCmd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "archive")
	dsn := fs.String("db", "", "database: sqlite:PATH or a PostgreSQL URL (default $GINJWT_DB)")
	olderThan := fs.Duration("older-than", 240*time.Hour, "delete tokens that expired longer ago than this")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *olderThan < 0 {
		return fmt.Errorf("%w: -older-than must not be negative", errUsage)
	}
	db, closeDB, err := openDB(dbFlag(dsn))
	if err != nil {
		return err
	}
	defer closeDB()
	reg, err := registry.New(db, registry.Options{MaxLifetime: time.Hour})
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := reg.Archive(ctx, start.Add(-*olderThan))
	fmt.Fprintf(e.stdout, "archived %d tokens that expired before %s in %v\n", n, start.Add(-*olderThan).UTC().Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
	return err
}

// readPassword reads the first line of standard input: passwords never
// travel as arguments, where ps and shell history would show them.
func readPassword(e env, fromStdin bool) (string, error) {
	if !fromStdin {
		return "", fmt.Errorf("%w: -password-stdin is required (passwords are not taken as arguments)", errUsage)
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("the password on standard input is empty")
	}
	return line, nil
}

func keysGenerateCmd(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "keys generate")
	alg := fs.String("alg", "", fmt.Sprintf("algorithm, one of %s (required)", strings.Join(ginjwt.Algorithms(), ", ")))
	out := fs.String("out", "", "write the key to this file (mode 0600) instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *alg == "" {
		return fmt.Errorf("%w: -alg is required", errUsage)
	}
	key, err := ginjwt.GenerateKey(*alg)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	data, err := keyText(key)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(data)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s key to %s\n", *alg, *out)
	return nil
}

// keyText is how a generated key is written: an HMAC secret as one line of
// text (use it as GINJWT_SIGNING_KEY), an asymmetric key as PKCS #8 PEM.
func keyText(k ginjwt.Key) ([]byte, error) {
	if k.Secret != nil {
		// base64url text of 64 random bytes: as raw bytes it is an 86-byte
		// secret, enough for HS512.
		return []byte(base64.RawURLEncoding.EncodeToString(k.Secret) + "\n"), nil
	}
	return ginjwt.MarshalKeyPEM(k)
}
