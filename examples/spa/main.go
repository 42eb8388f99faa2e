// Command spa is ginjwt's single-page example: a static page that logs in,
// shows who is logged in from the readable half of the access token, calls
// a protected POST API with the CSRF header, refreshes and logs out — in
// two-cookie mode on an embedded SQLite database.
//
//	go run ./examples/spa
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ginjwt/ginjwt/examples/internal/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	dsn := flag.String("db", "sqlite:ginjwt-spa.db", "database: sqlite:PATH or a PostgreSQL URL")
	flag.Parse()
	if err := serve(*addr, *dsn); err != nil {
		log.Fatal(err)
	}
}

func serve(addr, dsn string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Plain HTTP: only on loopback, where browsers accept cookies without
	// Secure. Behind TLS, leave Secure on.
	insecure := demo.Loopback(addr)
	a, err := newApp(ctx, dsn, insecure)
	if err != nil {
		return err
	}
	defer a.close()
	banner := fmt.Sprintf(`ginjwt single-page example on http://%[1]s
  database:    %[2]s
  signing key: %[3]s
  cookies:     two-cookie mode, Secure=%[4]v (plain HTTP on loopback)

Create a user (in another terminal), then open the page and log in:
  echo 'correct horse battery staple' | go run ./cmd/ginjwt user create -db %[2]s -username alice -perms perm1 -password-stdin

`, addr, dsn, a.keyFrom, !insecure)
	return demo.Serve(ctx, addr, a.handler, banner)
}
