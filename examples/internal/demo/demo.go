// Package demo holds what the examples share and a real application would
// do its own way: where the demo signing key lives, and how to close down.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
)

// SigningKey returns the HS256 secret of an example: $GINJWT_SIGNING_KEY
// when set, otherwise the one kept in .ginjwt-demo.key beside the SQLite
// database of dsn (in the working directory for PostgreSQL), made on first
// run. from says which, for the example's banner.
func SigningKey(dsn string) (secret []byte, from string, err error) {
	if env := os.Getenv("GINJWT_SIGNING_KEY"); env != "" {
		return []byte(env), "$GINJWT_SIGNING_KEY", nil
	}
	dir := "."
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok && path != ":memory:" {
		dir = filepath.Dir(path)
	}
	file := filepath.Join(dir, ".ginjwt-demo.key")
	b, err := os.ReadFile(file)
	if err == nil {
		return []byte(strings.TrimSpace(string(b))), file, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	raw := make([]byte, 48)
	_, _ = rand.Read(raw)
	text := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(file, []byte(text+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("saving the signing key: %w", err)
	}
	return []byte(text), file + " (new)", nil
}

// Loopback reports whether addr listens on the loopback interface only,
// where the examples serve plain HTTP and so drop the Secure attribute of
// their cookies.
func Loopback(addr string) bool {
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = addr[:i]
	}
	host = strings.Trim(host, "[]")
	return host == "127.0.0.1" || host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// Close drains and stops auth's background work (nil: none started) and
// closes db, as an example does on its way out.
func Close(auth *ginjwt.Auth, db *gorm.DB) {
	if auth != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := auth.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "closing ginjwt:", err)
		}
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// Serve serves h on addr, prints banner once listening has begun, and shuts
// down gracefully (10 s for requests in flight) when ctx ends — on SIGINT
// or SIGTERM in the examples.
func Serve(ctx context.Context, addr string, h http.Handler, banner string) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Print(banner)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("\nshutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
