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
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ginjwt/ginjwt/examples/internal/demo"
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

func serve(opts options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	app, err := newApp(ctx, opts)
	if err != nil {
		return err
	}
	defer app.close()
	return demo.Serve(ctx, opts.addr, app.handler, app.banner(opts))
}
