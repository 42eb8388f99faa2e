package main

import (
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	t.Setenv("GINJWT_DB", "")
	db := "sqlite:" + t.TempDir() + "/x.db"
	cases := []struct {
		args []string
		code int
		want string // on standard error
	}{
		{nil, 2, "ginjwt: a command is required\nusage: ginjwt <command>"},
		{[]string{"frobnicate"}, 2, "ginjwt: unknown command \"frobnicate\"\nusage: ginjwt <command>"},
		{[]string{"user"}, 2, "ginjwt user: a subcommand is required\nusage: ginjwt user <subcommand>"},
		{[]string{"user", "bogus"}, 2, "ginjwt user: unknown subcommand \"bogus\"\nusage: ginjwt user <subcommand>"},
		{[]string{"keys"}, 2, "usage: ginjwt keys <subcommand>"},
		{[]string{"help", "nope"}, 2, "unknown command \"nope\""},
		{[]string{"migrate"}, 2, "-db (or $GINJWT_DB) is required"},
		{[]string{"migrate", "-db", "mysql://x"}, 1, "DSN must start with"},
		{[]string{"migrate", "-nope"}, 2, "ginjwt migrate: flag provided but not defined: -nope\n\nginjwt migrate: create"},
		{[]string{"user", "list", "-limit", "many"}, 2, "invalid value \"many\" for flag -limit"},
		{[]string{"migrate", "-db", db, "extra"}, 2, "unexpected argument \"extra\""},
		{[]string{"user", "create", "-db", db}, 2, "-username is required"},
		{[]string{"user", "create", "-db", db, "-username", "a"}, 2, "-password-stdin is required"},
		{[]string{"user", "create", "-db", db, "-username", "a", "-password-stdin"}, 1, "no password on standard input"},
		{[]string{"user", "create", "-db", db, "-username", "a", "-password-stdin", "-min-password-length", "0"}, 2, "-min-password-length must be between 1 and 1024"},
		{[]string{"user", "list", "-db", db, "-status", "maybe"}, 2, "-status must be all, active or inactive"},
		{[]string{"user", "list", "-db", db, "-offset", "-1"}, 2, "must not be negative"},
		{[]string{"user", "show", "-db", db}, 2, "-username or -user-id is required"},
		{[]string{"user", "deactivate", "-db", db, "-username", "a", "-user-id", "b"}, 2, "give -username or -user-id, not both"},
		{[]string{"user", "set-password", "-db", db}, 2, "-username or -user-id is required"},
		{[]string{"sessions", "list"}, 2, "-username or -user-id is required"},
		{[]string{"sessions", "revoke", "-db", db}, 2, "-session is required"},
		{[]string{"sessions", "revoke-all", "-db", db, "-username", "a", "-max-token-lifetime", "0s"}, 2, "-max-token-lifetime must be positive"},
		{[]string{"keys", "generate"}, 2, "-alg is required"},
		{[]string{"keys", "generate", "-alg", "none"}, 2, "unknown algorithm"},
		{[]string{"keys", "rotate"}, 2, "-file is required"},
		{[]string{"keys", "rotate", "-file", "k.pem", "-stage", "-promote"}, 2, "not both"},
		{[]string{"keys", "rotate", "-file", "k.pem", "-keep", "1"}, 2, "-keep must be at least 2"},
		{[]string{"keys", "rotate", "-file", "k.pem", "-kid", "x"}, 2, "-kid goes with -promote"},
		{[]string{"keys", "list"}, 2, "-file is required"},
		{[]string{"archive", "-db", db, "-older-than", "-1h"}, 2, "must not be negative"},
		{[]string{"version", "now"}, 2, "unexpected argument \"now\""},
		{[]string{"user", "list", "-db", db}, 1, "no such table: ginjwt_users (1) (has 'ginjwt migrate' run on this database?)"},
	}
	for _, tc := range cases {
		code, stdout, stderr := cli(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if stdout != "" {
			t.Errorf("%q: printed on standard output: %q", tc.args, stdout)
		}
		// A usage error shows the usage too.
		if tc.code == 2 && !strings.Contains(stderr, "usage: ginjwt") && !strings.Contains(stderr, "Usage:\n  ginjwt ") {
			t.Errorf("%q: no usage after the error: %q", tc.args, stderr)
		}
	}
}

// Every -h answers 0 on standard output: the top level, each group and
// each command with its description, flags and example.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		code, stdout, stderr := cli(t, "", args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "usage: ginjwt <command>") || !strings.Contains(stdout, "sessions revoke-all") {
			t.Errorf("%q: %d %q %q", args, code, stdout, stderr)
		}
	}
	for _, g := range groups() {
		for _, args := range [][]string{{g, "-h"}, {"help", g}, {g, "bogus", "-h"}} {
			code, stdout, stderr := cli(t, "", args...)
			if code != 0 || stderr != "" || !strings.Contains(stdout, "usage: ginjwt "+g+" <subcommand>") {
				t.Errorf("%q: %d %q %q", args, code, stdout, stderr)
			}
		}
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		for _, args := range [][]string{
			append(words[:len(words):len(words)], "-h"),
			append(words[:len(words):len(words)], "-help"),
			append(words[:len(words):len(words)], "-db", "sqlite:nowhere.db", "stray", "-h"),
			append([]string{"help"}, words...),
		} {
			code, stdout, stderr := cli(t, "", args...)
			if code != 0 || stderr != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
				continue
			}
			for _, want := range []string{"ginjwt " + c.name + ": " + c.summary + "\n", "Usage:\n  ginjwt " + c.name, "Example:\n  "} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%q: no %q in\n%s", args, want, stdout)
				}
			}
			if c.name != "version" && !strings.Contains(stdout, "Flags:\n  -") {
				t.Errorf("%q: no flags in\n%s", args, stdout)
			}
		}
		if strings.Contains(c.summary, "\n") || len(c.summary) > 72 {
			t.Errorf("%s: the summary is not one short line: %q", c.name, c.summary)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"alice":            "alice",
		"Zoë Müller":       "Zoë Müller",
		"mallory\u202egnp": `"mallory\u202egnp"`,
		"\x1b[31mred":      `"\x1b[31mred"`,
		"tab\there":        `"tab\there"`,
		"bad\xffutf8":      `"bad\xffutf8"`,
		"":                 "",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %s; want %s", in, got, want)
		}
	}
}
