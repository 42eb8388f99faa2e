//go:build unix

package sqlite

import "syscall"

// access asks the kernel whether this process may read (or write) path:
// EACCES for a permission, EROFS for a read-only file system.
func access(path string, write bool) error {
	mode := uint32(4) // R_OK
	if write {
		mode = 2 // W_OK
	}
	return syscall.Access(path, mode)
}
