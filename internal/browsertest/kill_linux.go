package browsertest

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// killLeftovers kills every process that still runs with profile as its
// user data directory, and returns once none has shown up for a few looks.
//
// Killing the browser's main process does not kill the processes it started,
// such as the zygote, the renderers and the network service, and chromedp
// v0.14 kills only the main one. Chromium gives --user-data-dir to every child,
// and New's profile directory is unique, so the command line finds them. A
// child can fork just as its parent dies, hence the repeated looks.
func killLeftovers(profile string) {
	const (
		quietLooks = 3
		pause      = 10 * time.Millisecond
		limit      = 5 * time.Second
	)
	want := []byte("--user-data-dir=" + profile)
	deadline := time.Now().Add(limit)
	for quiet := 0; quiet < quietLooks && time.Now().Before(deadline); time.Sleep(pause) {
		if killUsing(want) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// killUsing sends SIGKILL to each live process that has the argument arg,
// and returns how many it found.
func killUsing(arg []byte) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self := os.Getpid()
	n := 0
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid == self {
			continue
		}
		// A zombie has an empty command line, so it is not counted: it is
		// dead, and waits only for its parent to reap it.
		cmdline, err := os.ReadFile("/proc/" + entry.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for _, a := range bytes.Split(cmdline, []byte{0}) {
			if bytes.Equal(a, arg) {
				syscall.Kill(pid, syscall.SIGKILL)
				n++
				break
			}
		}
	}
	return n
}
