package testdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/database"
)

// Cluster is a PostgreSQL server that belongs to one test: its own data
// directory, port and process, so the test may stop, kill and start it while
// the shared server at [PostgresDSN] keeps serving every other test. Make one
// with [PrivatePostgres].
//
// It listens on 127.0.0.1 only, at a port chosen below the kernel's ephemeral
// range (so no client socket takes it while the server is down), with trust
// authentication and fsync off: a commit survives the server's crash ([Cluster.Kill])
// but not the machine's. Its DSN stays the same across Stop and Start.
type Cluster struct {
	bin   string // directory of the PostgreSQL programs
	root  string // temporary directory: data/, the Unix socket, postgres.log
	port  int
	owner *osUser // the user the server runs as when the test runs as root

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
}

// osUser is a user to run PostgreSQL's programs as.
type osUser struct{ uid, gid uint32 }

// PrivatePostgres starts a PostgreSQL cluster for t alone and stops it, and
// removes its files, when t ends (also when t fails).
//
// It runs Debian's binaries (/usr/lib/postgresql/N/bin, the newest N; or the
// directory named by GINJWT_TEST_POSTGRES_BIN). PostgreSQL refuses to run as
// root, so a test running as root runs it as the "postgres" user. The data
// directory is copied from a template made by initdb once per machine and
// kept in the system's temporary directory (ginjwt-pgtemplate-*).
//
// When the cluster cannot be started, t skips with a loud message, except
// under CI=true, where t fails with the reason.
func PrivatePostgres(t testing.TB) *Cluster {
	t.Helper()
	began := time.Now()
	c, err := newCluster()
	if err != nil {
		unavailable(t, "private PostgreSQL cluster", err)
	}
	t.Cleanup(c.remove)
	made := time.Now()
	for attempt := 0; ; attempt++ {
		err = c.start()
		if err == nil {
			break
		}
		// Another process may have taken the port between the look and the
		// bind: take another one.
		if attempt < 3 && strings.Contains(err.Error(), "Address already in use") {
			if c.port, err = freePort(); err == nil {
				continue
			}
		}
		unavailable(t, "private PostgreSQL cluster", err)
	}
	t.Logf("testdb: private PostgreSQL on 127.0.0.1:%d in %v (data directory %v, start %v)",
		c.port, time.Since(began).Round(time.Millisecond), made.Sub(began).Round(time.Millisecond), time.Since(made).Round(time.Millisecond))
	return c
}

// DSN is the key=value DSN of the cluster's "postgres" database. It does not
// change when the cluster is stopped and started again.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=5", c.port)
}

// DB opens the cluster's database through [database.Open] with a silent
// logger, and closes it when t ends.
func (c *Cluster) DB(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := database.Open(c.DSN(), quiet())
	if err != nil {
		t.Fatalf("testdb: open private PostgreSQL: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// Start starts the stopped cluster on its port and returns once it accepts
// connections; t fails if it does not within a minute, or if it runs already.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if err := c.start(); err != nil {
		t.Fatalf("testdb: start private PostgreSQL: %v", err)
	}
}

// Stop shuts the cluster down the way "pg_ctl stop -m fast" does (SIGINT to
// the postmaster): open transactions are rolled back, every client is
// disconnected with SQLSTATE 57P01, and the server writes a checkpoint. It
// returns once the server has exited; t fails if it does not within a
// minute, or if the cluster is not running.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.stop(syscall.SIGINT); err != nil {
		t.Fatalf("testdb: stop private PostgreSQL: %v", err)
	}
}

// Kill shuts the cluster down the way "pg_ctl stop -m immediate" does
// (SIGQUIT to the postmaster): as close to a crash as PostgreSQL offers —
// no checkpoint, clients cut off, crash recovery at the next Start. It
// returns once the server has exited; t fails as for [Cluster.Stop].
func (c *Cluster) Kill(t testing.TB) {
	t.Helper()
	if err := c.stop(syscall.SIGQUIT); err != nil {
		t.Fatalf("testdb: kill private PostgreSQL: %v", err)
	}
}

// BeginShutdown starts a smart shutdown (SIGTERM to the postmaster, what
// "pg_ctl stop -m smart" sends) and returns at once: connections open keep
// working, new ones are refused with SQLSTATE 57P03 ("the database system
// is shutting down"), and the server exits when its last client leaves.
// Finish with [Cluster.Stop] or [Cluster.Kill]; t fails if the cluster is
// not running.
func (c *Cluster) BeginShutdown(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		t.Fatal("testdb: smart shutdown of private PostgreSQL: the cluster is not running")
	}
	if err := c.proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("testdb: smart shutdown of private PostgreSQL: %v", err)
	}
}

func newCluster() (*Cluster, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.owner, err = lookupUser("postgres"); err != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root, and %w", err)
		}
	}
	tmpl, err := template(bin, c.owner)
	if err != nil {
		return nil, err
	}
	// A short path: a Unix socket's path must fit in 107 bytes.
	if c.root, err = os.MkdirTemp("", "ginjwt-pg-"); err != nil {
		return nil, err
	}
	if err := c.chown(c.root); err != nil {
		c.remove()
		return nil, err
	}
	if err := copyTree(tmpl, filepath.Join(c.root, "data"), c.owner); err != nil {
		c.remove()
		return nil, fmt.Errorf("copy the template data directory: %w", err)
	}
	if c.port, err = freePort(); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return errors.New("the cluster runs already")
	}
	logPath := filepath.Join(c.root, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	logStart, _ := logFile.Seek(0, io.SeekEnd)
	cmd := exec.Command(filepath.Join(c.bin, "postgres"),
		"-D", filepath.Join(c.root, "data"),
		"-p", strconv.Itoa(c.port),
		"-k", c.root,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB",
		"-c", "max_connections=50",
	)
	cmd.Dir = c.root
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr(c.owner)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.proc, c.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		select {
		case <-done:
			c.proc = nil
			return fmt.Errorf("postgres exited while starting: %s", tail(logPath, logStart))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-done
			c.proc = nil
			return fmt.Errorf("postgres did not accept connections within a minute: %s", tail(logPath, logStart))
		default:
		}
		if ready(ctx, c.DSN()) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ready reports whether the server at dsn completes a connection.
func ready(ctx context.Context, dsn string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		return false
	}
	_ = conn.Close(ctx)
	return true
}

func (c *Cluster) stop(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return errors.New("the cluster is not running")
	}
	proc, done := c.proc, c.done
	c.proc = nil
	if err := proc.Process.Signal(sig); err != nil {
		select {
		case <-done: // exited already, after BeginShutdown
			return nil
		case <-time.After(time.Second):
			return err
		}
	}
	select {
	case <-done:
		return nil
	case <-time.After(time.Minute):
		_ = proc.Process.Kill()
		<-done
		return errors.New("postgres did not exit within a minute of the signal; killed")
	}
}

// remove stops the server at once if it runs and deletes its files.
func (c *Cluster) remove() {
	c.mu.Lock()
	proc, done := c.proc, c.done
	c.proc = nil
	c.mu.Unlock()
	if proc != nil {
		_ = proc.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = proc.Process.Kill()
			<-done
		}
	}
	if c.root != "" {
		_ = os.RemoveAll(c.root)
	}
}

func (c *Cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	return os.Chown(path, int(c.owner.uid), int(c.owner.gid))
}

// postgresBin finds the directory of the PostgreSQL server programs.
func postgresBin() (string, error) {
	if dir := os.Getenv("GINJWT_TEST_POSTGRES_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) < versionOf(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if isFile(filepath.Join(dirs[i], "postgres")) && isFile(filepath.Join(dirs[i], "initdb")) {
			return dirs[i], nil
		}
	}
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	return "", errors.New("no PostgreSQL server programs: install Debian's postgresql package or set GINJWT_TEST_POSTGRES_BIN")
}

func versionOf(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func lookupUser(name string) (*osUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("there is no %q user to run it as: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %q has ids %q/%q that are not numbers", name, u.Uid, u.Gid)
	}
	return &osUser{uid: uint32(uid), gid: uint32(gid)}, nil
}

var templates sync.Map // key: bin + owner -> *templateOnce

type templateOnce struct {
	once sync.Once
	dir  string
	err  error
}

// template returns a data directory made by initdb for bin, made once per
// machine: it is kept in the temporary directory, named after the server's
// version and the user that owns it, and made whole before it gets its name.
func template(bin string, owner *osUser) (string, error) {
	uid := os.Geteuid()
	if owner != nil {
		uid = int(owner.uid)
	}
	v, _ := templates.LoadOrStore(fmt.Sprintf("%s|%d", bin, uid), &templateOnce{})
	tmpl := v.(*templateOnce)
	tmpl.once.Do(func() { tmpl.dir, tmpl.err = makeTemplate(bin, owner, uid) })
	return tmpl.dir, tmpl.err
}

func makeTemplate(bin string, owner *osUser, uid int) (string, error) {
	version, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", filepath.Join(bin, "postgres"), err)
	}
	sum := sha256.Sum256(append([]byte(bin+"\n"), version...))
	final := filepath.Join(os.TempDir(), fmt.Sprintf("ginjwt-pgtemplate-%s-%d", hex.EncodeToString(sum[:6]), uid))
	if isFile(filepath.Join(final, "complete")) {
		return filepath.Join(final, "data"), nil
	}
	build, err := os.MkdirTemp("", "ginjwt-pgtemplate-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)
	if owner != nil {
		if err := os.Chown(build, int(owner.uid), int(owner.gid)); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", filepath.Join(build, "data"), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
		"--wal-segsize=1", // 1 MB of WAL to copy instead of 16
	)
	cmd.Dir = build
	cmd.SysProcAttr = procAttr(owner)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out))
	}
	if err := os.WriteFile(filepath.Join(build, "complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(build, final); err != nil && !isFile(filepath.Join(final, "complete")) {
		return "", fmt.Errorf("keep the template: %w", err)
	}
	return filepath.Join(final, "data"), nil
}

// copyTree copies the directory src to dst, keeping modes, owned by owner
// when not nil.
func copyTree(src, dst string, owner *osUser) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			err = os.Mkdir(target, info.Mode().Perm())
		case info.Mode().IsRegular():
			err = copyFile(path, target, info.Mode().Perm())
		default:
			return fmt.Errorf("%s: not a file or directory", path)
		}
		if err == nil && owner != nil {
			err = os.Lchown(target, int(owner.uid), int(owner.gid))
		}
		return err
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// freePort returns a port of 127.0.0.1 that nothing listens on, below the
// kernel's ephemeral range when it can (above it otherwise), so no outgoing
// connection is given it while the cluster is stopped.
func freePort() (int, error) {
	lo, hi := 10000, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first, last int
		if _, err := fmt.Sscan(string(b), &first, &last); err == nil {
			switch {
			case first > lo+1000:
				hi = first - 1
			case last < 64535:
				lo, hi = last+1, 65535
			}
		}
	}
	for range 200 {
		port := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port of 127.0.0.1 in %d-%d", lo, hi)
}

// tail returns the end of the log written since offset, for error messages.
func tail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if offset < int64(len(b)) {
		b = b[offset:]
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// unavailable ends t when a facility a test needs is missing: a failure under
// CI=true, a loud skip otherwise.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testdb: %s is required under CI=true and is unavailable: %v", what, err)
	}
	t.Skipf("\n\n*** SKIPPING: %s is unavailable: %v ***\n*** under CI=true this fails ***\n\n", what, err)
}
