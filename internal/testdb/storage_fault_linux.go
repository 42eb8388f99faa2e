package testdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// ReadOnly makes the directory dir, and the files in it (an SQLite database
// with its -wal and -shm files), read-only until the fault is cleared, the
// way an operator's "chmod a-w" does to a server that does not run as root:
// handles opened before the fault keep writing; every open for writing made
// during it fails, so SQLite opens the database read-only instead (it falls
// back silently) and new files cannot be created.
//
// Root ignores file modes, so a test running as root gets the same effect
// from a read-only bind mount of dir over itself (this needs the right to
// mount: a test that lacks it skips, and fails under CI=true). Clear makes
// the mount writable again; the test's cleanup unmounts it. Other users get
// chmod a-w of dir and its files; Clear gives back their modes.
func ReadOnly(t testing.TB, dir string) *Fault {
	t.Helper()
	what := "read-only " + dir
	if os.Geteuid() != 0 {
		return chmodReadOnly(t, dir)
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		unavailable(t, "a read-only bind mount (as root, file modes stop no write)", fmt.Errorf("mount --bind %s: %w", dir, err))
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("testdb: unmount %s: %v", dir, err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		unavailable(t, "a read-only bind mount (as root, file modes stop no write)", fmt.Errorf("mount -o remount,ro,bind %s: %w", dir, err))
	}
	return newFault(t, what, func() error {
		return syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND, "")
	})
}

func chmodReadOnly(t testing.TB, dir string) *Fault {
	t.Helper()
	modes := map[string]fs.FileMode{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	paths := []string{dir}
	for _, e := range entries {
		if e.Type().IsRegular() {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("testdb: %v", err)
		}
		modes[p] = st.Mode().Perm()
	}
	restore := func() error {
		var errs []error
		for p, mode := range modes {
			errs = append(errs, os.Chmod(p, mode))
		}
		return errors.Join(errs...)
	}
	f := newFault(t, "read-only "+dir, restore)
	for _, p := range paths {
		if err := os.Chmod(p, modes[p]&^0o222); err != nil {
			t.Fatalf("testdb: chmod a-w %s: %v", p, err)
		}
	}
	return f
}

// SmallDisk mounts a file system of size bytes (a tmpfs) at a new directory
// of t's and returns the directory; the test's cleanup unmounts it. It needs
// the right to mount (root): without it t skips, and fails under CI=true.
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+strconv.FormatInt(size, 10)+",mode=0755"); err != nil {
		unavailable(t, "a small file system (a tmpfs mount)", fmt.Errorf("mount -t tmpfs %s: %w", dir, err))
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("testdb: unmount %s: %v", dir, err)
		}
	})
	return dir
}

// maxFill bounds what FillDisk writes, so a mistake cannot fill a real disk.
const maxFill = 256 << 20

// FillDisk fills the file system that holds dir, which must be a small one
// (from [SmallDisk]: t fails if more than 256 MB are free), with a file in
// dir until a write fails with ENOSPC; Clear deletes that file. Space a
// database file already holds stays usable to it: only writes that need
// new blocks fail.
func FillDisk(t testing.TB, dir string) *Fault {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("testdb: statfs %s: %v", dir, err)
	}
	if free := int64(st.Bavail) * st.Bsize; free > maxFill {
		t.Fatalf("testdb: FillDisk: %s has %d MB free; fill only a SmallDisk", dir, free>>20)
	}
	path := filepath.Join(dir, ".testdb-filler")
	f := newFault(t, "full disk at "+dir, func() error { return os.Remove(path) })
	file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer file.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			_, err := file.Write(buf)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				t.Fatalf("testdb: fill %s: %v", dir, err)
			}
		}
	}
	return f
}
