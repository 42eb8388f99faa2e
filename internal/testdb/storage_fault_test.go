package testdb

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadOnly: during the fault nothing in the directory can be opened
// for writing or created, by root too, while a handle opened before keeps
// writing; after Clear everything can again.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()

	fault := ReadOnly(t, dir)
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		f.Close()
		t.Fatal("the file opened for writing during the fault")
	}
	if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o644); err == nil {
		t.Fatal("a file was created during the fault")
	}
	if _, err := before.Write([]byte("b")); err != nil {
		t.Fatalf("a handle opened before the fault stopped writing: %v", err)
	}
	fault.Clear(t)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("after Clear: %v", err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "new"), nil, 0o644); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
	fault.Clear(t) // a second Clear does nothing
}

// TestFillDisk: a write fails with ENOSPC until Clear.
func TestFillDisk(t *testing.T) {
	dir := SmallDisk(t, 4<<20)
	fault := FillDisk(t, dir)
	buf := make([]byte, 64<<10)
	err := os.WriteFile(filepath.Join(dir, "more"), buf, 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a write on the full disk: %v, want ENOSPC", err)
	}
	fault.Clear(t)
	if err := os.WriteFile(filepath.Join(dir, "more"), buf, 0o644); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
}
