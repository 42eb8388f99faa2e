package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	cases := []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "(devel)"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ginjwt/ginjwt", Version: "v1.4.0"}}, true, "v1.4.0 go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "(devel) go1.26.8"},
		{&debug.BuildInfo{Main: debug.Module{}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, true, "(devel) (0123456789ab, modified)"},
	}
	for _, tc := range cases {
		if got := version(tc.info, tc.ok); got != tc.want {
			t.Errorf("version(%+v) = %q; want %q", tc.info, got, tc.want)
		}
	}
	code, stdout, stderr := cli(t, "", "version")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "ginjwt (devel)") {
		t.Fatalf("version: %d %q %q", code, stdout, stderr)
	}
}
