package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm/logger"
)

// SlowQuery is how long a statement may run before [NewLogger]'s logger
// reports it as slow.
const SlowQuery = 200 * time.Millisecond

func init() {
	// GORM's Scan runs its statement through a process-wide recorder that
	// writes the bound values into the SQL before any logger sees it, with
	// no regard for the logger's own filter. Importing this package makes
	// the recorder keep the placeholders, for every logger of the process:
	// in init, before any statement runs, so no statement races with it.
	prev := logger.RecorderParamsFilter
	logger.RecorderParamsFilter = func(ctx context.Context, sql string, params ...any) (string, []any) {
		if prev != nil {
			sql, _ = prev(ctx, sql, params...)
		}
		return sql, nil
	}
}

// NewLogger returns a GORM logger that writes to l and never writes what a
// client typed into the log:
//
//   - statements are logged with their placeholders, never with the values
//     bound to them (a username, often a mistyped password, a token); for
//     the statements of GORM's Scan, this package sets gorm's
//     logger.RecorderParamsFilter, process-wide, when it is imported;
//   - a lookup that finds nothing (gorm.ErrRecordNotFound) is not an error
//     and is not logged;
//   - failed statements are logged at error level and statements slower
//     than [SlowQuery] at warn level; at logger.Info (LogMode) every
//     statement is, at info level;
//   - every text it logs (the SQL, the driver's message, which may quote a
//     value it could not convert) has its control characters and invalid
//     UTF-8 escaped, whatever the handler of l does with it.
//
// Its level starts at logger.Warn; a nil l means slog.Default() at the
// time of each message.
func NewLogger(l *slog.Logger) logger.Interface {
	return &gormLogger{log: l, level: logger.Warn, slow: SlowQuery}
}

// gormLogger is NewLogger's logger.
type gormLogger struct {
	log   *slog.Logger // nil: slog.Default()
	level logger.LogLevel
	slow  time.Duration
}

func (g *gormLogger) out() *slog.Logger {
	if g.log == nil {
		return slog.Default()
	}
	return g.log
}

// LogMode returns a copy of the logger at level.
func (g *gormLogger) LogMode(level logger.LogLevel) logger.Interface {
	c := *g
	c.level = level
	return &c
}

// Info logs GORM's own messages at info level.
func (g *gormLogger) Info(ctx context.Context, msg string, data ...any) {
	g.message(ctx, logger.Info, slog.LevelInfo, msg, data)
}

// Warn logs GORM's own warnings.
func (g *gormLogger) Warn(ctx context.Context, msg string, data ...any) {
	g.message(ctx, logger.Warn, slog.LevelWarn, msg, data)
}

// Error logs GORM's own errors.
func (g *gormLogger) Error(ctx context.Context, msg string, data ...any) {
	g.message(ctx, logger.Error, slog.LevelError, msg, data)
}

func (g *gormLogger) message(ctx context.Context, at logger.LogLevel, level slog.Level, msg string, data []any) {
	if g.level < at {
		return
	}
	g.out().LogAttrs(orBackground(ctx), level, "database: "+escape(fmt.Sprintf(msg, data...)))
}

// Trace logs one statement: failed, slow, or (at logger.Info) any.
func (g *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (sql string, rowsAffected int64), err error) {
	if g.level <= logger.Silent {
		return
	}
	elapsed := time.Since(begin)
	var (
		level slog.Level
		msg   string
	)
	switch {
	case err != nil && !errors.Is(err, logger.ErrRecordNotFound):
		if g.level < logger.Error {
			return
		}
		level, msg = slog.LevelError, "database: statement failed"
	case g.slow > 0 && elapsed > g.slow:
		if g.level < logger.Warn {
			return
		}
		level, msg = slog.LevelWarn, "database: slow statement"
	case g.level >= logger.Info:
		level, msg = slog.LevelInfo, "database: statement"
	default:
		return
	}
	ctx = orBackground(ctx)
	log := g.out()
	if !log.Enabled(ctx, level) {
		return
	}
	sql, rows := fc()
	attrs := []slog.Attr{slog.String("sql", escape(sql)), slog.Duration("elapsed", elapsed)}
	if rows >= 0 {
		attrs = append(attrs, slog.Int64("rows", rows))
	}
	if level == slog.LevelError {
		attrs = append(attrs, slog.String("error", escape(err.Error())))
	}
	log.LogAttrs(ctx, level, msg, attrs...)
}

// ParamsFilter drops the values bound to a statement: GORM calls it before
// it writes a statement into the log, which then keeps its placeholders.
func (g *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// escape returns s with control characters, other non-printing runes and
// invalid UTF-8 written as Go escapes (\n, \x1b, \u2028), and s itself when
// it has none.
func escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
