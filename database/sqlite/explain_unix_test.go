//go:build unix

package sqlite_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ginjwt/ginjwt/database"
)

// asNobody, when set, makes TestOpenPermissionDenied the child that opens
// the databases under the directory it names, as an unprivileged user.
const asNobody = "GINJWT_TEST_SQLITE_OPEN_IN"

// TestOpenPermissionDenied: a file the process may not read, and a
// directory it may not create the file in, are reported as permission
// problems. Root ignores file modes, so as root the opening runs in a
// child process of this test binary as user 65534 (nobody).
func TestOpenPermissionDenied(t *testing.T) {
	if base := os.Getenv(asNobody); base != "" {
		for _, name := range []string{"locked.db", "ro/new.db"} {
			_, err := database.Open("sqlite:"+filepath.Join(base, name), quietLog())
			os.Stdout.WriteString(name + "\t" + strings.ReplaceAll(errString(err), "\n", " ") + "\n")
		}
		return
	}

	// A tree everyone may traverse: t.TempDir is private to its owner.
	base, err := os.MkdirTemp("", "ginjwt-sqlite-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(base, "ro"), 0o755)
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(base, "locked.db")
	db, err := database.Open("sqlite:"+locked, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE t (v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	closeDB(db)
	ro := filepath.Join(base, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}

	var out []byte
	if os.Geteuid() == 0 {
		out = runAsNobody(t, base)
	} else {
		var b bytes.Buffer
		for _, name := range []string{"locked.db", "ro/new.db"} {
			_, err := database.Open("sqlite:"+filepath.Join(base, name), quietLog())
			b.WriteString(name + "\t" + errString(err) + "\n")
		}
		out = b.Bytes()
	}
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if name, msg, ok := strings.Cut(sc.Text(), "\t"); ok {
			got[name] = msg
		}
	}
	want := map[string]string{
		"locked.db": `database: open SQLite database "` + locked + `": permission denied: cannot read ` + locked,
		"ro/new.db": `database: open SQLite database "` + filepath.Join(ro, "new.db") + `": permission denied: cannot create files in directory ` + ro,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n  %s\nwant\n  %s", name, got[name], w)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// runAsNobody runs TestOpenPermissionDenied again, in a child process as
// user 65534, on base, and returns its standard output.
func runAsNobody(t *testing.T, base string) []byte {
	t.Helper()
	// The test binary lives in a directory private to root: a copy where
	// nobody may run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "sqlite.test")
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenPermissionDenied$", "-test.count=1")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), asNobody+"="+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the child as user 65534: %v\n%s%s", err, out, stderr.Bytes())
	}
	return out
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
