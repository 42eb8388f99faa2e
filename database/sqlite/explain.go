package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// sqliteNotADB is SQLite's result code for a file that is not a database.
const sqliteNotADB = 26

// Error is an SQLite error whose cause the file system named: a missing
// directory, a permission, a read-only file system, a file that is not a
// database. It wraps the driver's error and, where there is one, the file
// system's (so errors.Is(err, fs.ErrNotExist) and errors.Is(err,
// fs.ErrPermission) work).
type Error struct {
	// Path is the database file's path, as in the DSN.
	Path string
	// Op is "open" or "write".
	Op string
	// Cause says what is wrong, in words an operator can act on.
	Cause string

	fsErr     error // nil, or what the file system said
	driverErr error
}

func (e *Error) Error() string {
	if e.Op == "write" {
		return fmt.Sprintf("database: SQLite database %q cannot be written: %s (%v)", e.Path, e.Cause, e.driverErr)
	}
	return fmt.Sprintf("database: open SQLite database %q: %s", e.Path, e.Cause)
}

func (e *Error) Unwrap() []error {
	if e.fsErr == nil {
		return []error{e.driverErr}
	}
	return []error{e.fsErr, e.driverErr}
}

// explainOpen turns err, the failure to open the database at path, into an
// [Error] that names the cause; without one, it adds the path.
func explainOpen(path string, err error) error {
	if errors.As(err, new(*Error)) {
		return err // a connection of the pool already explained it
	}
	if sqliteCode(err) == sqliteNotADB {
		return &Error{Path: path, Op: "open", Cause: "the file is not an SQLite database", driverErr: err}
	}
	if cause, fsErr := diagnose(path); cause != "" {
		return &Error{Path: path, Op: "open", Cause: cause, fsErr: fsErr, driverErr: err}
	}
	return fmt.Errorf("database: open SQLite database %q: %w", path, err)
}

// explainWrite turns err, a statement's failure because the database at
// path could not be written or a file of it could not be opened, into an
// [Error] that names the cause; without one it returns err.
func explainWrite(path string, err error) error {
	if errors.As(err, new(*Error)) {
		return err
	}
	if cause, fsErr := diagnose(path); cause != "" {
		return &Error{Path: path, Op: "write", Cause: cause, fsErr: fsErr, driverErr: err}
	}
	return err
}

// diagnose asks the file system why SQLite cannot open or write the
// database at path: its directory, the file, and the -wal and -shm files
// WAL mode needs beside it. It returns "" when it finds nothing wrong.
func diagnose(path string) (cause string, fsErr error) {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		return notADirectory(dir), err
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("directory %s does not exist", dir), err
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("permission denied: cannot reach directory %s", dir), err
	case err != nil:
		return "", nil
	case !st.IsDir():
		return fmt.Sprintf("%s is not a directory", dir), nil
	}
	st, err = os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// SQLite creates the file, and its -wal and -shm, in dir.
		return denied(access(dir, true), "cannot create files in directory "+dir, dir)
	case err != nil:
		return "", nil
	case st.IsDir():
		return fmt.Sprintf("%s is a directory", path), nil
	}
	if cause, err := denied(access(path, false), "cannot read "+path, path); cause != "" {
		return cause, err
	}
	if cause, err := denied(access(path, true), path+" is not writable", path); cause != "" {
		return cause, err
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(side); errors.Is(err, fs.ErrNotExist) {
			if cause, err := denied(access(dir, true), "cannot create "+filepath.Base(side)+" in directory "+dir, dir); cause != "" {
				return cause, err
			}
		} else if cause, err := denied(access(side, true), side+" is not writable", side); cause != "" {
			return cause, err
		}
	}
	return "", nil
}

// denied words an access error: a read-only file system is named as such,
// a permission as what it stops (what); other errors say nothing.
func denied(err error, what, where string) (string, error) {
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, syscall.EROFS):
		return where + " is on a read-only file system", err
	case errors.Is(err, fs.ErrPermission):
		return "permission denied: " + what, err
	}
	return "", nil
}

// notADirectory names the file that stands where dir's path needs a
// directory.
func notADirectory(dir string) string {
	for p := dir; ; {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return fmt.Sprintf("%s is not a directory", p)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Sprintf("%s is not a directory", dir)
		}
		p = parent
	}
}
