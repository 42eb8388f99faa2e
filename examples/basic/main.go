// Command basic is ginjwt's runnable example: a small API behind JWT
// authentication on an embedded SQLite database, with no setup.
//
//	go run ./examples/basic
//
// It creates its database (default ginjwt-demo.db) and, unless
// GINJWT_SIGNING_KEY is set, a signing key in .ginjwt-demo.key beside it,
// then prints how to create a user and log in.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var opts options
	flag.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "listen address")
	flag.StringVar(&opts.db, "db", "sqlite:ginjwt-demo.db", "database: sqlite:PATH or a PostgreSQL URL")
	flag.StringVar(&opts.mode, "mode", "json", "where tokens travel: json, cookie or two-cookie")
	rotate := flag.Bool("rotate", true, "rotate refresh tokens on every refresh, with reuse detection (-rotate=false: off)")
	flag.Parse()
	opts.noRotate = !*rotate
	if err := serve(opts); err != nil {
		log.Fatal(err)
	}
}

// serve runs the example until SIGINT (Ctrl-C) or SIGTERM (docker stop,
// systemd, Kubernetes), then shuts down in order: stop accepting requests
// and finish those in flight, then close ginjwt — which registers what its
// queue still holds — and only then the database.
func serve(opts options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	app, err := newApp(ctx, opts)
	if err != nil {
		return err
	}
	defer app.close() // auth.Close, then the database: runs after Shutdown below

	srv := &http.Server{
		Addr:              opts.addr,
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Print(app.banner(opts))
	select {
	case err := <-errc:
		return err // could not listen
	case <-ctx.Done():
	}
	fmt.Println("\nshutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
