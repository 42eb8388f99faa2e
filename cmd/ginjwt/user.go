package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/users"
)

func migrateCommand() command {
	return command{
		name:    "migrate",
		summary: "create or update ginjwt's tables",
		usage:   "[-db DSN]",
		example: "ginjwt migrate -db sqlite:app.db\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			return func(ctx context.Context, e env) error {
				db, closeDB, err := openDB(*dsn)
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
		},
	}
}

func userListCommand() command {
	return command{
		name:    "user list",
		summary: "list or search users, a page at a time",
		usage:   "[-search TEXT] [-status all|active|inactive] [-limit N] [-offset N] [-json] [-db DSN]",
		example: "ginjwt user list -db sqlite:app.db -search example.com -status active -limit 20\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			search := fs.String("search", "", "only users whose username or e-mail contains this `text` (any case)")
			status := fs.String("status", "all", "which users: all, active or inactive")
			limit := fs.Int("limit", 50, "at most `N` users (0: all)")
			offset := fs.Int("offset", 0, "skip the first `N` users, for the next page")
			asJSON := fs.Bool("json", false, jsonFlag)
			return func(ctx context.Context, e env) error {
				f := users.Filter{Match: *search}
				switch *status {
				case "all":
				case "active", "inactive":
					active := *status == "active"
					f.Active = &active
				default:
					return usageError("-status must be all, active or inactive, not %q", *status)
				}
				if *limit < 0 || *offset < 0 {
					return usageError("-limit and -offset must not be negative")
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				store := users.NewStore(db)
				total, err := store.Count(ctx, f)
				if err != nil {
					return err
				}
				list, err := store.Search(ctx, f, *limit, *offset)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(e.stdout, struct {
						Users  []users.User `json:"users"`
						Total  int64        `json:"total"`
						Limit  int          `json:"limit"`
						Offset int          `json:"offset"`
					}{list, total, *limit, *offset})
				}
				rows := make([][]string, 0, len(list))
				for _, u := range list {
					rows = append(rows, []string{u.Username, u.Email, yesNo(u.IsActive), yesNo(u.IsStaff), yesNo(u.IsSuperuser), when(u.LastLogin), u.ID})
				}
				if err := table(e.stdout, []string{"USERNAME", "EMAIL", "ACTIVE", "STAFF", "SUPERUSER", "LAST LOGIN", "ID"}, rows); err != nil {
					return err
				}
				switch {
				case len(list) == 0:
					fmt.Fprintf(e.stdout, "no users here (%d in all)\n", total)
				case *offset+len(list) < int(total):
					fmt.Fprintf(e.stdout, "%d–%d of %d; next page: -offset %d\n", *offset+1, *offset+len(list), total, *offset+len(list))
				default:
					fmt.Fprintf(e.stdout, "%d–%d of %d\n", *offset+1, *offset+len(list), total)
				}
				return nil
			}
		},
	}
}

func userShowCommand() command {
	return command{
		name:    "user show",
		summary: "show one user and their number of active sessions",
		usage:   "-username NAME | -user-id ID [-json] [-db DSN]",
		example: "ginjwt user show -db sqlite:app.db -username alice\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			who := addUserFlags(fs)
			asJSON := fs.Bool("json", false, jsonFlag)
			return func(ctx context.Context, e env) error {
				if err := who.check(); err != nil {
					return err
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				u, err := who.find(ctx, users.NewStore(db))
				if err != nil {
					return err
				}
				reg, err := openRegistry(e, db, time.Hour)
				if err != nil {
					return err
				}
				stop, err := startRegistry(ctx, reg)
				if err != nil {
					return err
				}
				defer stop()
				sessions, err := reg.Sessions(ctx, u.ID)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(e.stdout, struct {
						User     *users.User `json:"user"`
						Sessions int         `json:"active_sessions"`
					}{u, len(sessions)})
				}
				perms := strings.Join(u.Perms, ", ")
				if perms == "" {
					perms = "-"
				}
				email := u.Email
				if email == "" {
					email = "-"
				}
				return fields(e.stdout, [][2]string{
					{"id", u.ID},
					{"username", u.Username},
					{"email", email},
					{"active", yesNo(u.IsActive)},
					{"staff", yesNo(u.IsStaff)},
					{"superuser", yesNo(u.IsSuperuser)},
					{"perms", perms},
					{"last login", when(u.LastLogin)},
					{"password changed", when(u.PasswordChangedAt)},
					{"created", when(&u.CreatedAt)},
					{"updated", when(&u.UpdatedAt)},
					{"active sessions", strconv.Itoa(len(sessions))},
				})
			}
		},
	}
}

// minPasswordFlag adds -min-password-length, default
// $GINJWT_MIN_PASSWORD_LENGTH or users.DefaultMinPasswordLen.
func minPasswordFlag(fs *flag.FlagSet) *int {
	def := users.DefaultMinPasswordLen
	if v, err := strconv.Atoi(os.Getenv("GINJWT_MIN_PASSWORD_LENGTH")); err == nil && v > 0 {
		def = v
	}
	return fs.Int("min-password-length", def, "refuse passwords shorter than `N` characters ($GINJWT_MIN_PASSWORD_LENGTH sets the default)")
}

// checkMinPassword validates -min-password-length.
func checkMinPassword(n int) error {
	if n < 1 || n > users.MaxPasswordLen {
		return usageError("-min-password-length must be between 1 and %d", users.MaxPasswordLen)
	}
	return nil
}

// passwordError says why the store refused a password, naming the
// minimum.
func passwordError(err error) error {
	var short *users.PasswordTooShortError
	if errors.As(err, &short) {
		return fmt.Errorf("the password is too short: it must be at least %d characters long", short.Min)
	}
	return err
}

func userCreateCommand() command {
	return command{
		name:    "user create",
		summary: "create a user (the password comes from standard input)",
		usage:   "-username NAME -password-stdin [-email ADDRESS] [-perms a,b] [-staff] [-superuser] [-inactive] [-db DSN]",
		example: "echo \"$PASSWORD\" | ginjwt user create -db sqlite:app.db -username alice -email alice@example.com -perms reports.view -password-stdin\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			username := fs.String("username", "", "the new user's user`name` (required)")
			email := fs.String("email", "", "the new user's e-mail `address` (optional; may be used to log in)")
			fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required: passwords are not taken as arguments)")
			perms := fs.String("perms", "", "comma-separated permissions (a `list`), e.g. reports.view,reports.edit")
			staff := fs.Bool("staff", false, "mark the user as staff")
			superuser := fs.Bool("superuser", false, "make the user a superuser (holds every permission)")
			inactive := fs.Bool("inactive", false, "create the user deactivated (activate later with 'ginjwt user activate')")
			minLen := minPasswordFlag(fs)
			return func(ctx context.Context, e env) error {
				if *username == "" {
					return usageError("-username is required")
				}
				if err := checkMinPassword(*minLen); err != nil {
					return err
				}
				password, err := readPassword(e, *fromStdin)
				if err != nil {
					return err
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				if err := ginjwt.Migrate(ctx, db); err != nil {
					return err
				}
				u := users.NewUser(*username)
				u.Email = *email
				u.IsStaff, u.IsSuperuser, u.IsActive = *staff, *superuser, !*inactive
				for _, p := range strings.Split(*perms, ",") {
					if p = strings.TrimSpace(p); p != "" {
						u.Perms = append(u.Perms, p)
					}
				}
				if err := users.NewStore(db, users.WithMinPasswordLen(*minLen)).Create(ctx, u, password); err != nil {
					return passwordError(err)
				}
				fmt.Fprintf(e.stdout, "created user %s (id %s)\n", clean(u.Username), u.ID)
				return nil
			}
		},
	}
}

// cuttingStore returns a users.Store on db whose password changes and
// deactivations cut the user's tokens off in the token registry, in their
// own transaction: the revocation log tells every running service.
func cuttingStore(e env, db *gorm.DB, lifetime time.Duration, opts ...users.StoreOption) (*users.Store, error) {
	reg, err := openRegistry(e, db, lifetime)
	if err != nil {
		return nil, err
	}
	store := users.NewStore(db, opts...)
	store.OnCutOff(reg.CutOffInTx)
	return store, nil
}

func userSetPasswordCommand() command {
	return command{
		name:    "user set-password",
		summary: "set a user's password (from standard input) and log out their sessions",
		usage:   "-username NAME | -user-id ID -password-stdin [-min-password-length N] [-max-token-lifetime D] [-db DSN]",
		example: "echo \"$NEW_PASSWORD\" | ginjwt user set-password -db sqlite:app.db -username alice -password-stdin\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			who := addUserFlags(fs)
			fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (required)")
			minLen := minPasswordFlag(fs)
			lifetime := lifetimeFlag(fs)
			return func(ctx context.Context, e env) error {
				if err := who.check(); err != nil {
					return err
				}
				if err := checkLifetime(*lifetime); err != nil {
					return err
				}
				if err := checkMinPassword(*minLen); err != nil {
					return err
				}
				password, err := readPassword(e, *fromStdin)
				if err != nil {
					return err
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				store, err := cuttingStore(e, db, *lifetime, users.WithMinPasswordLen(*minLen))
				if err != nil {
					return err
				}
				u, err := who.find(ctx, store)
				if err != nil {
					return err
				}
				if err := store.SetPassword(ctx, u.ID, password); err != nil {
					return passwordError(err)
				}
				fmt.Fprintf(e.stdout, "password of %s changed; tokens issued before now are cut off\n", clean(u.Username))
				return nil
			}
		},
	}
}

func userDeactivateCommand() command {
	return command{
		name:    "user deactivate",
		summary: "deactivate a user and refuse every token they hold",
		usage:   "-username NAME | -user-id ID [-max-token-lifetime D] [-db DSN]",
		example: "ginjwt user deactivate -db sqlite:app.db -username mallory\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			who := addUserFlags(fs)
			lifetime := lifetimeFlag(fs)
			return func(ctx context.Context, e env) error {
				if err := who.check(); err != nil {
					return err
				}
				if err := checkLifetime(*lifetime); err != nil {
					return err
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				store, err := cuttingStore(e, db, *lifetime)
				if err != nil {
					return err
				}
				u, err := who.find(ctx, store)
				if err != nil {
					return err
				}
				// Even for a user already inactive: a token may still be out.
				if err := store.SetActive(ctx, u.ID, false); err != nil {
					return err
				}
				note := ""
				if !u.IsActive {
					note = " (they were inactive already)"
				}
				fmt.Fprintf(e.stdout, "deactivated %s%s; every token issued to them until now is refused\n", clean(u.Username), note)
				return nil
			}
		},
	}
}

func userActivateCommand() command {
	return command{
		name:    "user activate",
		summary: "let a deactivated user log in again",
		usage:   "-username NAME | -user-id ID [-db DSN]",
		example: "ginjwt user activate -db sqlite:app.db -username mallory\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			who := addUserFlags(fs)
			return func(ctx context.Context, e env) error {
				if err := who.check(); err != nil {
					return err
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				store := users.NewStore(db)
				u, err := who.find(ctx, store)
				if err != nil {
					return err
				}
				if u.IsActive {
					fmt.Fprintf(e.stdout, "%s is active already\n", clean(u.Username))
					return nil
				}
				if err := store.SetActive(ctx, u.ID, true); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "activated %s\n", clean(u.Username))
				return nil
			}
		},
	}
}

// readPassword reads the first line of standard input: passwords never
// travel as arguments, where ps and shell history would show them.
func readPassword(e env, fromStdin bool) (string, error) {
	if !fromStdin {
		return "", usageError("-password-stdin is required (passwords are not taken as arguments)")
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
