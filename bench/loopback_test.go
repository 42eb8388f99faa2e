package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/users"
)

// BenchmarkLoopback is throughput over real HTTP: a net/http server on
// loopback serving a gin.Engine with ginjwt mounted, and a load generator
// in this process that keeps loopbackConns keep-alive connections busy,
// writing prebuilt requests and reading the answers with a minimal HTTP/1.1
// reader (as wrk does: the client's own cost stays small beside the
// server's). Phases of loopbackPhase requests alternate between the public
// route (GET /public, no token: the baseline) and the protected one (GET
// /hello behind RequireLogin, each request with the next of `tokens`
// distinct access tokens, round-robin, each of its own session); the
// protected/public metric is the median of the per-phase-pair throughput
// ratios; cpu-protected/public the same from the CPU time the process used
// per phase (server and load generator), which other work on a shared
// machine disturbs far less than the wall clock. Default configuration (verified-token cache of 10,000 entries).
// -benchtime Nx sends N requests to each route (at least 20 phases:
// 400000x).
func BenchmarkLoopback(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			loopback(b, n, ginjwt.Config{})
		})
	}
}

// loopbackConns is the number of connections the load generator keeps
// busy; loopbackPhase the requests a side serves per phase.
var (
	loopbackConns = envInt("LOOPBACK_CONNS", 32)
	loopbackPhase = envInt("LOOPBACK_PHASE", 20_000)
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// loopback runs the measurement of BenchmarkLoopback with n tokens and cfg
// (the signing key and the paths are set here).
func loopback(b *testing.B, n int, cfg ginjwt.Config) {
	r := gin.New()
	cfg.SigningKey, cfg.Routes.Paths.Obtain = secret, "-"
	auth, err := ginjwt.Mount(r, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close(context.Background()) })
	r.GET("/public", hello)
	r.GET("/hello", ginjwt.RequireLogin(), hello)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	public := []byte("GET /public HTTP/1.1\r\nHost: bench\r\nUser-Agent: loopback\r\n\r\n")
	protected := make([][]byte, n)
	for i := range protected {
		u := *alice
		u.ID = users.NewID()
		protected[i] = []byte("GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: loopback\r\nAuthorization: Bearer " +
			login(b, auth, &u).Access + "\r\n\r\n")
	}

	conns := make([]*loopbackConn, loopbackConns)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = &loopbackConn{c: c, r: bufio.NewReaderSize(c, 4096)}
		b.Cleanup(func() { c.Close() })
	}
	var next atomic.Uint64
	pick := func() []byte { return protected[next.Add(1)%uint64(n)] }
	// Warm up: every token once (the cache's first sight of each), and the
	// public route as often.
	if err := loopbackPhaseRun(conns, n, pick); err != nil {
		b.Fatal(err)
	}
	if err := loopbackPhaseRun(conns, n, func() []byte { return public }); err != nil {
		b.Fatal(err)
	}

	phases := max(1, b.N/loopbackPhase)
	ratios := make([]float64, 0, phases)
	cpuRatios := make([]float64, 0, phases)
	var pubTime, protTime time.Duration
	before := auth.Stats()
	b.ResetTimer()
	b.StopTimer()
	for i := range phases {
		run := func(req func() []byte) (wall, cpu time.Duration) {
			start, startCPU := time.Now(), processCPU(b)
			if err := loopbackPhaseRun(conns, loopbackPhase, req); err != nil {
				b.Fatal(err)
			}
			return time.Since(start), processCPU(b) - startCPU
		}
		var tp, tq, cp, cq time.Duration
		if i%2 == 0 {
			tp, cp = run(func() []byte { return public })
			tq, cq = run(pick)
		} else {
			tq, cq = run(pick)
			tp, cp = run(func() []byte { return public })
		}
		pubTime += tp
		protTime += tq
		ratios = append(ratios, float64(tp)/float64(tq)) // throughput ratio: time public / time protected
		cpuRatios = append(cpuRatios, float64(cp)/float64(cq))
	}
	after := auth.Stats()
	slices.Sort(ratios)
	slices.Sort(cpuRatios)
	total := float64(phases * loopbackPhase)
	b.ReportMetric(float64(protTime.Nanoseconds())/total, "ns/op")
	b.ReportMetric(total/pubTime.Seconds(), "public-req/s")
	b.ReportMetric(total/protTime.Seconds(), "protected-req/s")
	b.ReportMetric(ratios[len(ratios)/2], "protected/public")
	b.ReportMetric(cpuRatios[len(cpuRatios)/2], "cpu-protected/public")
	if lookups := (after.CacheHits + after.CacheMisses) - (before.CacheHits + before.CacheMisses); lookups > 0 {
		b.ReportMetric(100*float64(after.CacheHits-before.CacheHits)/float64(lookups), "%hit")
	}
}

// processCPU is the CPU time the process has used, user and system: the
// server's and the load generator's, whatever else runs on the machine.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopbackConn is one keep-alive connection of the load generator.
type loopbackConn struct {
	c net.Conn
	r *bufio.Reader
}

// loopbackPhaseRun sends total requests over conns, one at a time per
// connection, each made by req, and reads every answer; any status but 200
// is an error.
func loopbackPhaseRun(conns []*loopbackConn, total int, req func() []byte) error {
	var left atomic.Int64
	left.Store(int64(total))
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if _, err := c.c.Write(req()); err != nil {
					errs <- err
					return
				}
				if err := c.readAnswer(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// readAnswer reads one HTTP/1.1 answer with a Content-Length and checks
// that it is 200.
func (c *loopbackConn) readAnswer() error {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("answer %q", bytes.TrimSpace(line))
	}
	length := -1
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return err
			}
		}
	}
	if length < 0 {
		return errors.New("answer without Content-Length")
	}
	_, err = c.r.Discard(length)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
