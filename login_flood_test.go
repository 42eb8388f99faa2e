package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// TestLoginFlood: 500 concurrent logins against a real server with write
// timeouts, on a 2-slot hasher with the real argon2id parameters, far more
// than it can check before the timeout. Every request gets an answer (200,
// 401, 429 or 503), none a closed connection; the logins it could not
// serve in time cost nobody a failure.
func TestLoginFlood(t *testing.T) {
	t.Parallel()
	const flood = 500
	db := testdb.SQLite(t)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	// A pool as an application would size it for SQLite (one writer at a
	// time): without a bound, 500 logins would open 500 connections at
	// once, each parsing the schema, which under -race takes minutes.
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(8)
	hasher := users.NewHasher(users.Params{}, 2) // argon2id m=19 MiB, t=2
	store := users.NewStore(db, users.WithHasher(hasher))
	names := []string{"alice", "bob", "carol"}
	for _, name := range names {
		if err := store.Create(context.Background(), users.NewUser(name), "pw-"+name); err != nil {
			t.Fatal(err)
		}
	}
	engine := gin.New()
	auth, err := Mount(engine, Config{
		SigningKey: testSecret,
		DB:         db,
		Users:      store,
		Logger:     slog.New(slog.DiscardHandler),
		Limits: Limits{
			Throttle: Throttle{PerIP: 10 * flood}, // one client address; MaxWait is the default
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = auth.Close(context.Background()) })
	if got := hasher.MaxWait(); got != 3*time.Second {
		t.Fatalf("the store's hasher waits up to %v; want the default 3s", got)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: engine, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	url := "http://" + ln.Addr().String() + "/auth/token"

	var mu sync.Mutex
	statuses := map[int]int{}
	var failures []string
	var wg sync.WaitGroup
	start := make(chan struct{})
	begun := time.Now()
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One in five logs in a real account; the others guess
			// names that exist nowhere (the same hashing work).
			login, password := fmt.Sprintf("ghost%d", i%200), "wrong"
			if i%5 == 0 {
				login = names[i%len(names)]
				password = "pw-" + login
			}
			<-start
			resp, err := client.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, login, password)))
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failures = append(failures, err.Error())
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "":
				failures = append(failures, "503 without Retry-After")
			default:
				statuses[resp.StatusCode]++
			}
		}()
	}
	close(start)
	wg.Wait()
	elapsed := time.Since(begun)
	t.Logf("%d concurrent logins in %v: %v; %d unanswered", flood, elapsed.Round(time.Millisecond), statuses, len(failures))
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests got no HTTP answer, first: %s", len(failures), flood, failures[0])
	}
	for status := range statuses {
		if status != 200 && status != 401 && status != 429 && status != 503 {
			t.Fatalf("answers %v; want only 200, 401, 429 and 503", statuses)
		}
	}
	// The logins that got no hashing slot in time counted as nothing:
	// every account still logs in.
	for _, name := range names {
		resp, err := client.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":"pw-%s"}`, name, name)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s after the flood: %d", name, resp.StatusCode)
		}
	}
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
}
