package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/registry"
)

func registryStatsCommand() command {
	return command{
		name:    "registry stats",
		summary: "count tokens, sessions, pending registrations and revocations",
		usage:   "[-json] [-db DSN]",
		example: "ginjwt registry stats -db sqlite:app.db\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			asJSON := fs.Bool("json", false, jsonFlag)
			return func(ctx context.Context, e env) error {
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				reg, err := openRegistry(e, db, time.Hour)
				if err != nil {
					return err
				}
				s, err := reg.Stats(ctx)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(e.stdout, s)
				}
				n := func(v int64) string { return strconv.FormatInt(v, 10) }
				oldest := "-"
				if s.OldestPending != nil {
					oldest = fmt.Sprintf("%s (%s ago)", when(s.OldestPending), s.At.Sub(*s.OldestPending).Round(time.Second))
				}
				return fields(e.stdout, [][2]string{
					{"tokens", n(s.Tokens)},
					{"  active", n(s.Active)},
					{"  expired", n(s.Expired)},
					{"  revoked", n(s.Revoked)},
					{"active sessions", n(s.Sessions)},
					{"pending registrations", n(s.Pending)},
					{"  oldest", oldest},
					{"revocation log rows", n(s.RevocationLog)},
					{"  live (held in memory)", n(s.RevocationLogLive)},
				})
			}
		},
	}
}

func archiveCommand() command {
	return command{
		name:    "archive",
		summary: "delete tokens that expired long ago, in batches, with progress",
		usage:   "[-older-than D] [-progress-every D] [-db DSN]",
		example: "ginjwt archive -db sqlite:app.db -older-than 240h\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			dsn := dbFlag(fs)
			olderThan := fs.Duration("older-than", 240*time.Hour, "delete tokens that expired longer ago than this `duration`")
			every := fs.Duration("progress-every", time.Second, "report progress on standard error at most once a `duration` (0: after every batch of 1000 tokens)")
			return func(ctx context.Context, e env) error {
				if *olderThan < 0 {
					return usageError("-older-than must not be negative")
				}
				if *every < 0 {
					return usageError("-progress-every must not be negative")
				}
				db, closeDB, err := openDB(*dsn)
				if err != nil {
					return err
				}
				defer closeDB()
				reg, err := openRegistry(e, db, time.Hour)
				if err != nil {
					return err
				}
				device.New(reg, device.Options{}) // archived tokens take their device rows along
				start := time.Now()
				before := start.Add(-*olderThan)
				var last time.Time
				report := func(p registry.ArchiveProgress) {
					if now := time.Now(); now.Sub(last) >= *every {
						last = now
						pct := 100.0
						if p.Expected > 0 {
							pct = min(100, 100*float64(p.Tokens)/float64(p.Expected))
						}
						fmt.Fprintf(e.stderr, "archive: batch %d: %d of %d tokens (%.0f%%), %d revocation log rows, %v\n",
							p.Batches, p.Tokens, p.Expected, pct, p.RevocationLog, time.Since(start).Round(time.Millisecond))
					}
				}
				n, err := reg.ArchiveWithProgress(ctx, before, report)
				fmt.Fprintf(e.stdout, "archived %d tokens that expired before %s in %v\n", n, before.UTC().Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
				return err
			}
		},
	}
}
