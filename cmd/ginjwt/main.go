// Command ginjwt runs a ginjwt installation: its database, its users and
// their sessions, the token registry and the signing keys.
//
//	ginjwt migrate                      create or update ginjwt's tables
//	ginjwt user list|show|create|set-password|deactivate|activate
//	ginjwt sessions list|revoke|revoke-all
//	ginjwt registry stats               counts of tokens, sessions, pending registrations, revocations
//	ginjwt archive                      delete tokens that expired long ago, with progress
//	ginjwt keys generate|rotate|list    signing keys and key files
//	ginjwt version
//
// "ginjwt help COMMAND" or "ginjwt COMMAND -h" describes a command, its
// flags and an example. Every command that touches the database takes
// -db DSN, default $GINJWT_DB: "sqlite:PATH" or a PostgreSQL URL or
// key=value DSN. Every change goes through ginjwt's packages, so password
// changes and deactivations cut the user's tokens off and revocations reach
// the revocation log that running services read.
//
// Exit status: 0 on success (and for -h), 1 when the command fails, 2 on a
// usage error (unknown command, missing subcommand, bad flag or argument),
// with the reason and the usage on standard error.
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
	name    string // "user create"
	summary string // one line, lower case, no period
	usage   string // the synopsis after "ginjwt <name> "
	example string // one or more lines, without indentation
	// flags defines the command's flags on fs and returns what runs the
	// command once they are parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e env) error
}

// errUsage marks an error as the caller's mistake: exit status 2, with the
// command's usage.
var errUsage = errors.New("usage")

// usageError returns an error with exit status 2 that says what is wrong.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func commands() []command {
	return []command{
		migrateCommand(),
		userListCommand(), userShowCommand(), userCreateCommand(), userSetPasswordCommand(),
		userDeactivateCommand(), userActivateCommand(),
		sessionsListCommand(), sessionsRevokeCommand(), sessionsRevokeAllCommand(),
		registryStatsCommand(), archiveCommand(),
		keysGenerateCommand(), keysRotateCommand(), keysListCommand(),
		versionCommand(),
	}
}

// groups are the first words of commands that have subcommands.
func groups() []string {
	var out []string
	for _, c := range commands() {
		if g, _, ok := strings.Cut(c.name, " "); ok && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "ginjwt: a command is required")
		usage(stderr, "")
		return 2
	}
	if args[0] == "help" {
		return help(e, args[1:])
	}
	c, rest := lookup(args)
	if c == nil {
		return unknown(e, args)
	}
	fs := flag.NewFlagSet("ginjwt "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed here, not by the flag package
	runCmd := c.flags(fs)
	if wantsHelp(rest) {
		commandHelp(stdout, c)
		return 0
	}
	err := fs.Parse(rest)
	switch {
	case errors.Is(err, flag.ErrHelp): // -h or -help
		commandHelp(stdout, c)
		return 0
	case err != nil:
		err = usageError("%v", err)
	case fs.NArg() > 0:
		err = usageError("unexpected argument %q", fs.Arg(0))
	default:
		err = runCmd(ctx, e)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "ginjwt %s: %s\n\n", c.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		commandHelp(stderr, c)
		return 2
	default:
		fmt.Fprintf(stderr, "ginjwt %s: %v%s\n", c.name, err, hint(err))
		return 1
	}
}

// hint suggests the likely fix for an error, or returns "".
func hint(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "no such table") || (strings.Contains(msg, "relation") && strings.Contains(msg, "does not exist")) {
		return " (has 'ginjwt migrate' run on this database?)"
	}
	return ""
}

// lookup finds the command args name and returns the arguments after its
// name.
func lookup(args []string) (*command, []string) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return &c, args[len(words):]
		}
	}
	return nil, nil
}

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--h" || arg == "-help" || arg == "--help"
}

// wantsHelp reports whether a help flag appears among args before "--",
// also after a stray argument, where the flag package stops looking.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelpFlag(a) {
			return true
		}
	}
	return false
}

// unknown answers args that name no command: help when asked for, else a
// usage error saying what is missing or unknown.
func unknown(e env, args []string) int {
	if isHelpFlag(args[0]) {
		usage(e.stdout, "")
		return 0
	}
	group := args[0]
	if !slices.Contains(groups(), group) {
		fmt.Fprintf(e.stderr, "ginjwt: unknown command %q\n", group)
		usage(e.stderr, "")
		return 2
	}
	switch {
	case wantsHelp(args[1:]):
		usage(e.stdout, group)
		return 0
	case len(args) == 1:
		fmt.Fprintf(e.stderr, "ginjwt %s: a subcommand is required\n", group)
	default:
		fmt.Fprintf(e.stderr, "ginjwt %s: unknown subcommand %q\n", group, args[1])
	}
	usage(e.stderr, group)
	return 2
}

// help is "ginjwt help [COMMAND]": the usage, a group's or a command's help.
func help(e env, args []string) int {
	if len(args) == 0 {
		usage(e.stdout, "")
		return 0
	}
	if c, rest := lookup(args); c != nil && len(rest) == 0 {
		commandHelp(e.stdout, c)
		return 0
	}
	if len(args) == 1 && slices.Contains(groups(), args[0]) {
		usage(e.stdout, args[0])
		return 0
	}
	fmt.Fprintf(e.stderr, "ginjwt help: unknown command %q\n", strings.Join(args, " "))
	usage(e.stderr, "")
	return 2
}

// usage lists the commands, or those of group.
func usage(w io.Writer, group string) {
	if group == "" {
		fmt.Fprintln(w, "usage: ginjwt <command> [flags]")
	} else {
		fmt.Fprintf(w, "usage: ginjwt %s <subcommand> [flags]\n", group)
	}
	fmt.Fprintln(w)
	for _, c := range commands() {
		if group == "" || strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  %-22s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ginjwt <command> -h' for a command's flags and an example.")
	if group == "" {
		fmt.Fprintln(w, "Commands that use the database take -db DSN, default $GINJWT_DB.")
	}
}

// commandHelp prints c's description, synopsis, flags and example.
func commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "ginjwt %s: %s\n\nUsage:\n  ginjwt %s %s\n", c.name, c.summary, c.name, c.usage)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintln(w, "\nExample:")
	for line := range strings.Lines(c.example) {
		fmt.Fprintf(w, "  %s", line)
	}
	fmt.Fprintln(w)
}
