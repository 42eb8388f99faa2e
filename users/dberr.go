package users

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// dbError turns a driver error from op into this package's errors: a
// missing row is [ErrNotFound], a unique violation a [*ValidationError]
// matching [ErrDuplicate], anything else is wrapped as "users: op: …".
func dbError(op string, err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if field, ok := uniqueViolation(err); ok {
		return &ValidationError{Field: field, Reason: "already taken", err: fmt.Errorf("%w: %w", ErrDuplicate, err)}
	}
	return fmt.Errorf("users: %s: %w", op, err)
}

// sqlStater is implemented by pgconn.PgError, without importing pgx here.
type sqlStater interface{ SQLState() string }

// uniqueViolation reports whether err is a unique-constraint violation
// (SQLSTATE 23505 on PostgreSQL, "UNIQUE constraint failed" on SQLite, or
// gorm.ErrDuplicatedKey under TranslateError), and on which field.
func uniqueViolation(err error) (field string, ok bool) {
	var pg sqlStater
	msg := err.Error()
	switch {
	case errors.As(err, &pg) && pg.SQLState() == "23505":
	case strings.Contains(msg, "UNIQUE constraint failed"):
	case errors.Is(err, gorm.ErrDuplicatedKey):
	default:
		return "", false
	}
	// The message names the index (PostgreSQL: "idx_users_email",
	// "ginjwt_users_pkey") or the column (SQLite: "ginjwt_users.email").
	switch {
	case strings.Contains(msg, "username"):
		return "username", true
	case strings.Contains(msg, "email"):
		return "email", true
	case strings.Contains(msg, "pkey"), strings.Contains(msg, ".id"):
		return "id", true
	}
	return "username or email", true
}
