package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// sessionView is one session in "sessions list -json".
type sessionView struct {
	ID         string    `json:"id"`
	Device     string    `json:"device,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	IP         string    `json:"ip,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// pendingLimit bounds how many journaled registrations of a user are
// counted.
const pendingLimit = 1000

func sessionsListCommand() command {
	return command{
		name:    "sessions list",
		summary: "list a user's active sessions and their devices",
		usage:   "-username NAME | -user-id ID [-json] [-db DSN]",
		example: "ginjwt sessions list -db sqlite:app.db -username alice\n",
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
				devices := device.New(reg, device.Options{})
				stop, err := startRegistry(ctx, reg)
				if err != nil {
					return err
				}
				defer stop()
				list, err := reg.Sessions(ctx, u.ID)
				if err != nil {
					return err
				}
				sids := make([]string, 0, len(list))
				for _, s := range list {
					sids = append(sids, s.ID)
				}
				devs, err := devices.SessionDevices(ctx, sids)
				if err != nil {
					return err
				}
				// Registrations a running service journaled and has not landed
				// yet: their sessions are not listed. The CLI does not land them
				// itself, since it does not run the application's pipeline steps.
				pending, err := reg.Journal().Pending(ctx, 0, time.Now().Add(time.Hour), u.ID, pendingLimit)
				if err != nil {
					return err
				}
				out := make([]sessionView, 0, len(list))
				for _, s := range list {
					v := sessionView{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC()}
					if d, ok := devs[s.ID]; ok {
						v.Device, v.IP = d.Label, d.IP
						if d.Interlocutor != nil {
							v.UserAgent = d.Interlocutor.Raw
						}
					}
					out = append(out, v)
				}
				if *asJSON {
					return writeJSON(e.stdout, struct {
						UserID   string        `json:"user_id"`
						Username string        `json:"username"`
						Sessions []sessionView `json:"sessions"`
						Pending  int           `json:"pending_registrations"`
					}{u.ID, u.Username, out, len(pending)})
				}
				rows := make([][]string, 0, len(out))
				for _, v := range out {
					dev, ip := v.Device, v.IP
					if dev == "" {
						dev = "-"
					}
					if ip == "" {
						ip = "-"
					}
					rows = append(rows, []string{v.ID, dev, ip, when(&v.CreatedAt), when(&v.LastUsedAt), when(&v.ExpiresAt)})
				}
				if err := table(e.stdout, []string{"SESSION", "DEVICE", "IP", "CREATED", "LAST USED", "EXPIRES"}, rows); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%d active sessions of %s\n", len(out), clean(u.Username))
				if len(pending) > 0 {
					fmt.Fprintf(e.stdout, "%d registrations of %s are still pending: a running service lands them within seconds, then their sessions show\n", len(pending), clean(u.Username))
				}
				return nil
			}
		},
	}
}

func sessionsRevokeCommand() command {
	return command{
		name:    "sessions revoke",
		summary: "revoke one session by its ID",
		usage:   "-session ID [-username NAME | -user-id ID] [-max-token-lifetime D] [-db DSN]",
		example: "ginjwt sessions revoke -db sqlite:app.db -username alice -session 0192f0c4-…\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			sid := fs.String("session", "", "the session's `ID`, as 'ginjwt sessions list' shows it (required)")
			who := addUserFlags(fs)
			lifetime := lifetimeFlag(fs)
			return func(ctx context.Context, e env) error {
				if *sid == "" {
					return usageError("-session is required")
				}
				if err := checkLifetime(*lifetime); err != nil {
					return err
				}
				if *who.username != "" && *who.id != "" {
					return who.check()
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				reg, err := openRegistry(e, db, *lifetime)
				if err != nil {
					return err
				}
				owner, err := reg.SessionOwner(ctx, *sid)
				if errors.Is(err, registry.ErrNotFound) {
					return fmt.Errorf("no session has the ID %s", clean(*sid))
				}
				if err != nil {
					return err
				}
				store := users.NewStore(db)
				name := "user " + owner
				if *who.username != "" || *who.id != "" {
					u, err := who.find(ctx, store)
					if err != nil {
						return err
					}
					if u.ID != owner {
						return fmt.Errorf("session %s is not %s's", clean(*sid), clean(u.Username))
					}
					name = u.Username
				} else if u, err := store.Find(ctx, owner); err == nil {
					name = u.Username
				}
				if err := reg.RevokeSession(ctx, *sid, registry.ReasonAdmin); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "revoked session %s of %s\n", clean(*sid), clean(name))
				return nil
			}
		},
	}
}

func sessionsRevokeAllCommand() command {
	return command{
		name:    "sessions revoke-all",
		summary: "log a user out everywhere (every token issued until now)",
		usage:   "-username NAME | -user-id ID [-max-token-lifetime D] [-db DSN]",
		example: "ginjwt sessions revoke-all -db sqlite:app.db -username alice\n",
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
				u, err := who.find(ctx, users.NewStore(db))
				if err != nil {
					return err
				}
				reg, err := openRegistry(e, db, *lifetime)
				if err != nil {
					return err
				}
				if err := reg.CutOffUser(ctx, u.ID); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "logged %s out everywhere: every token issued to them until now is refused\n", clean(u.Username))
				return nil
			}
		},
	}
}
