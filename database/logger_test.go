package database_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
)

// typed is what a client might type as a username: a password by mistake,
// a newline that would forge a log line, an ANSI escape that would repaint
// an operator's terminal.
const typed = "hunter2-password\n2026/01/01 forged line \x1b[2J\x1b[31mred"

// secret is the part of typed that must not appear at all.
const secret = "hunter2-password"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wantNoAttackerText fails when out has the bound value or raw control
// characters.
func wantNoAttackerText(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, secret) {
		t.Fatalf("the log has the bound value:\n%s", out)
	}
	if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\x1b\r") || strings.Count(out, "\n") != strings.Count(out, "level=") {
		t.Fatalf("the log has raw control characters (one line per record expected):\n%q", out)
	}
}

type account struct{ Username string }

// lookups runs, on db with lg as its logger, a lookup that finds nothing
// and statements that fail, each with typed bound, and returns what lg
// wrote.
func lookups(t *testing.T, db *gorm.DB, lg logger.Interface, out *syncBuffer) string {
	t.Helper()
	db = db.Session(&gorm.Session{Logger: lg})
	if err := db.Exec("CREATE TABLE accounts (username VARCHAR(200))").Error; err != nil {
		t.Fatal(err)
	}
	var a account
	err := db.Table("accounts").Where("username = ?", typed).Take(&a).Error
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("lookup: %v", err)
	}
	if got := out.String(); got != "" {
		t.Fatalf("a lookup that found nothing was logged:\n%s", got)
	}
	// Failing statements, the value bound to them.
	if err := db.Exec("INSERT INTO no_such_table (username) VALUES (?)", typed).Error; err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	if err := db.Table("accounts").Where("no_such_column = ?", typed).Take(&a).Error; err == nil {
		t.Fatal("a lookup on a missing column succeeded")
	}
	got := out.String()
	if n := strings.Count(got, "level=ERROR"); n != 2 {
		t.Fatalf("want the 2 failed statements logged as errors, got %d:\n%s", n, got)
	}
	if !strings.Contains(got, "no_such_table") || !strings.Contains(got, "no_such_column") {
		t.Fatalf("the failed statements are not in the log:\n%s", got)
	}
	wantNoAttackerText(t, got)
	return got
}

func TestLoggerWritesNoAttackerText(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		out := &syncBuffer{}
		lg := database.NewLogger(slog.New(slog.NewTextHandler(out, nil)))
		got := lookups(t, db, lg, out)
		// The placeholders stand where the values were.
		if !strings.Contains(got, "?") && !strings.Contains(got, "$1") {
			t.Fatalf("no placeholder in the logged SQL:\n%s", got)
		}

		if database.EngineOf(db) == database.Postgres {
			// PostgreSQL quotes a value it cannot convert in its message:
			// it is logged, escaped.
			before := len(out.String())
			var n int
			err := db.Session(&gorm.Session{Logger: lg}).Raw("SELECT CAST(? AS integer)", typed).Scan(&n).Error
			if err == nil {
				t.Fatal("the cast succeeded")
			}
			line := out.String()[before:]
			if !strings.Contains(line, `\x1b[2J`) {
				t.Fatalf("the driver's message is not there, escaped:\n%s", line)
			}
			if strings.ContainsAny(line, "\x1b") || strings.Count(line, "\n") != 1 {
				t.Fatalf("the driver's message is not escaped:\n%q", line)
			}
		}
	})
}

// TestLoggerHandlerThatDoesNotEscape: the logger escapes itself, so even a
// handler that writes strings raw gets no control characters, and at Info,
// where every statement is logged, no bound value either.
func TestLoggerHandlerThatDoesNotEscape(t *testing.T) {
	out := &syncBuffer{}
	lg := database.NewLogger(slog.New(rawHandler{out})).LogMode(logger.Info)
	db := testdb.SQLite(t).Session(&gorm.Session{Logger: lg})
	var n int64
	if err := db.Raw("SELECT count(*) FROM sqlite_master WHERE name = ?", typed).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	lg.Info(context.Background(), "GORM's own message about %s", typed)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%q", len(lines), out.String())
	}
	if strings.Contains(lines[0], secret) || !strings.Contains(lines[0], "name = ?") {
		t.Fatalf("the statement is not logged with its placeholder only: %q", lines[0])
	}
	if !strings.Contains(lines[1], `\n2026/01/01 forged line \x1b[2J`) {
		t.Fatalf("the message is not escaped: %q", lines[1])
	}
	if strings.ContainsAny(out.String(), "\x1b\r") {
		t.Fatalf("raw control characters: %q", out.String())
	}
}

// rawHandler writes the message and string attributes as they are.
type rawHandler struct{ w *syncBuffer }

func (h rawHandler) Enabled(_ context.Context, _ slog.Level) bool { return true }
func (h rawHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h rawHandler) WithGroup(string) slog.Handler                { return h }
func (h rawHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	b.WriteString("\n")
	_, err := h.w.Write([]byte(b.String()))
	return err
}

// TestOpenLogsThroughTheSafeLogger: Open's default logger is NewLogger's,
// writing to slog.Default().
func TestOpenLogsThroughTheSafeLogger(t *testing.T) {
	out := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(out, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	db, err := database.Open("sqlite:" + filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	lookups(t, db, db.Logger, out)
}
