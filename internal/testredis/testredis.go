// Package testredis gives tests the Redis server named by
// GINJWT_TEST_REDIS_ADDR (default 127.0.0.1:6379) with a key prefix of
// their own, and private redis-server processes to stop and start.
//
// When Redis cannot be reached the test skips with a loud message, except
// under CI=true, where it fails.
package testredis

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is the test Redis server's address.
func Addr() string {
	if a := os.Getenv("GINJWT_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Client returns a client of the test Redis server and a key prefix made
// for t alone; the prefix's keys are deleted when t ends.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, fmt.Sprintf("Redis unreachable at %s", Addr()), err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "ginjwt-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return c, prefix
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testredis: required under CI=true: %s: %v", what, err)
	}
	t.Skipf("\n\n*** SKIPPING Redis: %s: %v ***\n*** start Redis or set GINJWT_TEST_REDIS_ADDR; under CI=true this fails ***\n\n", what, err)
}

// Server is a private redis-server process on a port of its own, which a
// test may kill and start again on the same port.
type Server struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

// Private starts a redis-server of t's own, killed when t ends.
func Private(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "no redis-server binary", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &Server{bin: bin, dir: t.TempDir(), port: port}
	s.Start(t)
	t.Cleanup(func() { s.Kill(t) })
	return s
}

// Addr is the server's address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Start starts the server (again) and waits until it answers.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(s.port),
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("testredis: start redis-server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if line == "+PONG\r\n" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("testredis: redis-server on port %d did not answer", s.port)
}

// Kill kills the server (SIGKILL) and waits for it to exit.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
