//go:build !linux

package testdb

import (
	"errors"
	"testing"
)

var errNoFaults = errors.New("storage faults are injected on Linux only")

// ReadOnly is available on Linux only: elsewhere t skips (fails under CI=true).
func ReadOnly(t testing.TB, dir string) *Fault {
	t.Helper()
	unavailable(t, "a read-only directory", errNoFaults)
	return nil
}

// SmallDisk is available on Linux only: elsewhere t skips (fails under CI=true).
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	unavailable(t, "a small file system", errNoFaults)
	return ""
}

// FillDisk is available on Linux only: elsewhere t skips (fails under CI=true).
func FillDisk(t testing.TB, dir string) *Fault {
	t.Helper()
	unavailable(t, "a full file system", errNoFaults)
	return nil
}
