package browsertest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ginjwt/ginjwt/internal/browsertest"
)

// TestCleanupKillsBrowser checks that no process of the browser, the main one
// or any it started, outlives the cleanup of the test that made it.
func TestCleanupKillsBrowser(t *testing.T) {
	var pids []int
	t.Run("browser", func(t *testing.T) {
		ctx := browsertest.New(t)
		pids = descendants(chromedp.FromContext(ctx).Browser.Process().Pid)
	})
	if len(pids) == 0 {
		t.Skip("no browser ran")
	}
	t.Logf("the browser ran as %d processes", len(pids))
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d of the browser is still running after cleanup", pid)
		}
	}
}

// descendants returns root and every live process below it, from /proc.
func descendants(root int) []int {
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(dir))
		if ppid, _, ok := stat(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// alive reports whether pid runs and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	_, state, ok := stat(pid)
	return ok && state != 'Z' && state != 'X'
}

// stat reads the parent and the state of pid from /proc/pid/stat.
func stat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	return ppid, fields[0][0], err == nil
}
