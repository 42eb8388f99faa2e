package users

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUsernameLen is the longest username accepted, in characters.
const MaxUsernameLen = 150

// maxEmailLen and maxIDLen are the widths of their columns.
const (
	maxEmailLen = 254
	maxIDLen    = 64
)

// validateUser checks u's fields before a create and lower-cases its e-mail.
// It returns a [*ValidationError] naming the first bad field.
func validateUser(u *User) error {
	if len(u.ID) > maxIDLen {
		return &ValidationError{Field: "id", Reason: "must be at most 64 bytes"}
	}
	if u.ID != "" && !findable(u.ID) {
		return &ValidationError{Field: "id", Reason: "must be valid UTF-8 without NUL bytes"}
	}
	if err := validateUsername(u.Username); err != nil {
		return err
	}
	u.Email = strings.ToLower(u.Email)
	return validateEmail(u.Email)
}

func validateUsername(name string) error {
	invalid := func(reason string) error { return &ValidationError{Field: "username", Reason: reason} }
	switch {
	case name == "":
		return invalid("must not be empty")
	case !utf8.ValidString(name):
		return invalid("must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxUsernameLen:
		return invalid("must be at most 150 characters")
	case strings.TrimSpace(name) != name:
		return invalid("must not start or end with white space")
	case strings.ContainsFunc(name, unicode.IsControl):
		return invalid("must not contain control characters")
	}
	return nil
}

// validateEmail accepts "" (no e-mail) or local@domain: exactly one "@",
// text on both sides, no white space or control characters.
func validateEmail(email string) error {
	if email == "" {
		return nil
	}
	invalid := func(reason string) error { return &ValidationError{Field: "email", Reason: reason} }
	local, domain, _ := strings.Cut(email, "@")
	switch {
	case !utf8.ValidString(email):
		return invalid("must be valid UTF-8")
	case len(email) > maxEmailLen:
		return invalid("must be at most 254 bytes")
	case strings.Count(email, "@") != 1 || local == "" || domain == "":
		return invalid("must be of the form name@domain")
	case strings.ContainsFunc(email, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return invalid("must not contain white space or control characters")
	}
	return nil
}

// validatePassword returns a [*ValidationError] matching
// [ErrInvalidPassword] when password is empty or too long.
func validatePassword(password string) error {
	if validPassword(password) {
		return nil
	}
	return &ValidationError{Field: "password", Reason: "must be 1 to 1024 bytes", err: ErrInvalidPassword}
}

// findable reports whether value can be a stored username, e-mail or id:
// not empty, valid UTF-8 and free of NUL bytes. The writes refuse the
// others, and PostgreSQL cannot even compare them (the query fails), so a
// lookup of one names nobody and never reaches the database: a login typed
// as "alice\x00" is invalid credentials, not a database error.
func findable(value string) bool {
	return value != "" && utf8.ValidString(value) && !strings.Contains(value, "\x00")
}
