package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

func versionCommand() command {
	return command{
		name:    "version",
		summary: "print the ginjwt version this command was built from",
		usage:   "",
		example: "ginjwt version\n",
		flags: func(*flag.FlagSet) func(context.Context, env) error {
			return func(_ context.Context, e env) error {
				fmt.Fprintln(e.stdout, "ginjwt "+version(debug.ReadBuildInfo()))
				return nil
			}
		},
	}
}

// version is the module version of the build ("v1.4.0" when installed
// with go install …@v1.4.0), "(devel)" for a build from a checkout, with
// the VCS revision when the build recorded one, and the Go version.
func version(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "(devel)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if v == "(devel)" && rev != "" {
		v += fmt.Sprintf(" (%.12s%s)", rev, modified)
	}
	if info.GoVersion != "" {
		v += " " + info.GoVersion
	}
	return v
}
