package testdb

import (
	"sync"
	"testing"
)

// Fault is a storage fault a test injected under an SQLite database, such as
// a directory made read-only ([ReadOnly]) or a full file system
// ([FillDisk]). It lasts until [Fault.Clear]; the test's cleanup clears it
// too, so a failing test leaves nothing behind.
type Fault struct {
	what  string
	once  sync.Once
	clear func() error
	err   error
}

// Clear ends the fault; t fails if it cannot. Clearing twice does nothing.
func (f *Fault) Clear(t testing.TB) {
	t.Helper()
	if err := f.end(); err != nil {
		t.Fatalf("testdb: clear %s: %v", f.what, err)
	}
}

func (f *Fault) end() error {
	f.once.Do(func() { f.err = f.clear() })
	return f.err
}

// newFault registers f's clearing as a cleanup of t.
func newFault(t testing.TB, what string, clear func() error) *Fault {
	f := &Fault{what: what, clear: clear}
	t.Cleanup(func() {
		if err := f.end(); err != nil {
			t.Errorf("testdb: clear %s: %v", what, err)
		}
	})
	return f
}
