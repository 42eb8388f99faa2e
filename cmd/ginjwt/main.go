// Command ginjwt administers a ginjwt database and its keys.
//
//	ginjwt migrate                       create or update ginjwt's tables
//	ginjwt user create -username U [-email E] -password-stdin [-perms a,b] [-staff] [-superuser]
//	ginjwt user set-password -username U -password-stdin
//	ginjwt keys generate -alg ALG [-out FILE]
//	ginjwt archive [-older-than 240h]
//
// Every command that touches the database takes -db DSN, default $GINJWT_DB:
// "sqlite:PATH" or a PostgreSQL URL or key=value DSN. It exits 0 on success,
// 1 when the command fails and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what a command runs with: its streams, so tests can run commands
// in process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// errUsage marks an error as the caller's mistake: exit status 2.
var errUsage = errors.New("usage")

func commands() []command {
	return []command{
		{"migrate", "create or update ginjwt's tables", migrateCmd},
		{"user create", "create a user", userCreateCmd},
		{"user set-password", "set a user's password (and log out their sessions)", userSetPasswordCmd},
		{"keys generate", "generate a signing key", keysGenerateCmd},
		{"archive", "delete tokens that expired long ago, in small batches", archiveCmd},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			err := c.run(ctx, e, args[len(words):])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "ginjwt %s: %v\n", c.name, err)
				return 2
			default:
				fmt.Fprintf(stderr, "ginjwt %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	usage(stderr)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return 0
	}
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ginjwt <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ginjwt <command> -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ginjwt "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses args, turning flag errors into usage errors and refusing
// stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
