package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

func init() { gin.SetMode(gin.TestMode) }

// cli runs the command in process.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// must runs the command and fails the test unless it succeeds.
func must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, stdout, stderr := cli(t, stdin, args...)
	if code != 0 {
		t.Fatalf("ginjwt %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// dsnFor returns a DSN that opens db's database (and, on PostgreSQL, schema).
func dsnFor(t *testing.T, db *gorm.DB) string {
	if db.Dialector.Name() == "postgres" {
		return testdb.PostgresSchemaDSN(t, db)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
}

// migrated returns the DSN of a migrated database on db's engine, and a
// connection of the test's own to check effects with.
func migrated(t *testing.T, db *gorm.DB) (string, *gorm.DB) {
	t.Helper()
	dsn := dsnFor(t, db)
	must(t, "", "migrate", "-db", dsn)
	check, closeDB, err := openDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	return dsn, check
}

// decodeJSON parses a command's -json output.
func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}

// revocations returns the revocation log rows of kind for subject.
func revocations(t *testing.T, db *gorm.DB, kind registry.RevocationKind, subject string) []registry.Revocation {
	t.Helper()
	var rows []registry.Revocation
	if err := db.Where("kind = ? AND subject = ?", kind, subject).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// service is a running ginjwt application on the CLI's database, as an
// operator's would be: its own connection pool, its registry resyncing.
type service struct {
	t    *testing.T
	r    *gin.Engine
	auth *ginjwt.Auth
}

func startService(t *testing.T, dsn string) *service {
	t.Helper()
	db, closeDB, err := openDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{
		DB:         db,
		SigningKey: []byte("a test signing key of 32+ bytes!!"),
		Registry:   ginjwt.RegistryConfig{Resync: 20 * time.Millisecond, Devices: true},
	})
	if err != nil {
		closeDB()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := auth.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		closeDB()
	})
	r.GET("/api/me", ginjwt.RequireLogin(), func(c *gin.Context) { c.String(200, "ok") })
	return &service{t: t, r: r, auth: auth}
}

// do sends a request and returns the status and the error code of the body.
func (s *service) do(method, path, body, bearer, userAgent string) (int, map[string]string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	w := httptest.NewRecorder()
	s.r.ServeHTTP(w, req)
	out := map[string]string{}
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

// login logs in from userAgent and returns the pair.
func (s *service) login(username, password, userAgent string) (access, refresh string) {
	s.t.Helper()
	code, body := s.do("POST", "/auth/token", fmt.Sprintf(`{"username":%q,"password":%q}`, username, password), "", userAgent)
	if code != 200 {
		s.t.Fatalf("login %s: %d %v", username, code, body)
	}
	return body["access"], body["refresh"]
}

// me is GET /api/me with token: its status and error code.
func (s *service) me(token string) (int, string) {
	code, body := s.do("GET", "/api/me", "", token, "")
	return code, body["error"]
}

// refused waits until the service refuses token as revoked (it learns of
// the CLI's revocation from the log: LISTEN on PostgreSQL, a resync on
// SQLite).
func (s *service) refused(token, what string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, errCode := s.me(token)
		if code == 401 && errCode == "token_revoked" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: the token is still answered %d %q", what, code, errCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pipelineToken is what the registry checks of a token.
func (s *service) pipelineToken(token string) *pipeline.Token {
	s.t.Helper()
	c, err := s.auth.ParseToken(token)
	if err != nil {
		s.t.Fatal(err)
	}
	return &pipeline.Token{ID: c.ID, Type: string(c.Type), SessionID: c.SessionID, UserID: c.UserID,
		IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, Generation: c.Generation}
}

// freshRegistry is a registry started now on dsn, as a new instance would
// start: it knows of revocations only through the log.
func freshRegistry(t *testing.T, dsn string) *registry.Registry {
	t.Helper()
	db, closeDB, err := openDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	reg, err := registry.New(db, registry.Options{MaxLifetime: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	return reg
}
