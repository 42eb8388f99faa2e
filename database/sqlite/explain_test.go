package sqlite_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/database/sqlite"
	"github.com/ginjwt/ginjwt/internal/dbfault"
	"github.com/ginjwt/ginjwt/internal/testdb"
)

func quietLog() database.Option { return database.WithLogger(logger.Discard) }

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// openErr opens path and returns Open's error, failing when Open succeeds.
func openErr(t *testing.T, path string) error {
	t.Helper()
	db, err := database.Open("sqlite:"+path, quietLog())
	if err == nil {
		closeDB(db)
		t.Fatalf("Open(%q) succeeded", path)
	}
	t.Logf("Open(%q): %v", path, err)
	return err
}

// TestOpenNamesTheCause: a file SQLite cannot open is reported with what
// the file system says is wrong, not with the driver's guess ("out of
// memory (14)" for a missing directory), and keeps what errors.Is and the
// fault classification need.
func TestOpenNamesTheCause(t *testing.T) {
	tmp := t.TempDir()
	aFile := filepath.Join(tmp, "file")
	if err := os.WriteFile(aFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	notADB := filepath.Join(tmp, "notes.txt")
	if err := os.WriteFile(notADB, []byte(strings.Repeat("not an SQLite database\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
		is               error
	}{
		{"missing directory", filepath.Join(tmp, "nonexistent", "dir", "x.db"),
			"directory " + filepath.Join(tmp, "nonexistent", "dir") + " does not exist", fs.ErrNotExist},
		{"a file where a directory should be", filepath.Join(aFile, "x.db"),
			aFile + " is not a directory", nil},
		{"a directory", tmp, tmp + " is a directory", nil},
		{"not a database", notADB, "the file is not an SQLite database", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := openErr(t, tc.path)
			want := `database: open SQLite database "` + tc.path + `": ` + tc.want
			if err.Error() != want {
				t.Fatalf("error\n  %v\nwant\n  %s", err, want)
			}
			var se *sqlite.Error
			if !errors.As(err, &se) || se.Path != tc.path || se.Op != "open" || se.Cause != tc.want {
				t.Fatalf("errors.As(*sqlite.Error) = %+v", se)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("errors.Is(err, %v) = false", tc.is)
			}
		})
	}
	// The driver's error stays underneath: a file that cannot be opened is
	// a storage fault (503), a file that is not a database is not.
	if err := openErr(t, cases[0].path); !dbfault.Unavailable(err) {
		t.Errorf("a missing directory is not classified unavailable: %v", err)
	}
}

// TestOpenReadOnlyDirectory: a database that does not exist yet in a
// directory that cannot be written is reported as such: a read-only file
// system as root (a read-only bind mount), a permission otherwise.
func TestOpenReadOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	testdb.ReadOnly(t, dir)
	path := filepath.Join(dir, "app.db")
	want := dir + " is on a read-only file system"
	if os.Geteuid() != 0 {
		want = "permission denied: cannot create files in directory " + dir
	}
	err := openErr(t, path)
	if got := err.Error(); got != `database: open SQLite database "`+path+`": `+want {
		t.Fatalf("error %q does not say %q", got, want)
	}
}

// TestWriteToReadOnlyFileNamesTheCause: a database SQLite opened read-only
// (its directory went read-only) opens and reads, and a write's error says
// why it failed, keeping SQLite's own words and the 503 classification.
func TestWriteToReadOnlyFileNamesTheCause(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	other, _ := openSQLite(t, path) // keeps -wal and -shm in place
	if err := other.Exec("CREATE TABLE rows (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	testdb.ReadOnly(t, dir)
	db, _ := openSQLite(t, path)
	err := write(db, "x")
	if err == nil {
		t.Fatal("a write succeeded on a read-only directory")
	}
	cause := path + " is on a read-only file system"
	if os.Geteuid() != 0 {
		cause = "permission denied: " + path + " is not writable"
	}
	want := `database: SQLite database "` + path + `" cannot be written: ` + cause + " (attempt to write a readonly database"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error\n  %v\nwant it to start with\n  %s", err, want)
	}
	if !dbfault.Unavailable(err) {
		t.Fatalf("%v is not classified unavailable", err)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("%d rows", n)
	}
}
