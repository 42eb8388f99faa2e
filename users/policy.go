package users

import (
	"fmt"
	"unicode/utf8"
)

// DefaultMinPasswordLen is the minimum password length, in characters, that
// ginjwt's CLI requires by default and that [WithMinPasswordLen] is meant to
// be given by an application without a policy of its own: 8. (NIST SP
// 800-63B-4 asks for 15 where the password is the only factor; raise it
// there.)
const DefaultMinPasswordLen = 8

// WithMinPasswordLen makes [Store.Create] and [Store.SetPassword] refuse a
// password shorter than n characters (Unicode code points, so "pässwort"
// counts 8) with an error matching [ErrPasswordTooShort] that names n (see
// [PasswordTooShortError]). Every path that sets a password through the
// store gets the policy; [Store.Authenticate] does not, so an account whose
// password predates the policy still logs in.
//
// Default: no minimum beyond a non-empty password (n ≤ 1 keeps that).
// Pass [DefaultMinPasswordLen] unless the application has its own rule. An
// n above [MaxPasswordLen] refuses every password.
func WithMinPasswordLen(n int) StoreOption {
	return func(s *Store) { s.minPasswordLen = max(n, 1) }
}

// MinPasswordLen returns the shortest password, in characters, that
// [Store.Create] and [Store.SetPassword] accept: 1 unless
// [WithMinPasswordLen] set it.
func (s *Store) MinPasswordLen() int { return max(s.minPasswordLen, 1) }

// checkNewPassword applies the length limits to a password being set: the
// bounds every hash has ([validatePassword]), then the store's minimum.
func (s *Store) checkNewPassword(password string) error {
	if err := validatePassword(password); err != nil {
		return err
	}
	if least := s.MinPasswordLen(); utf8.RuneCountInString(password) < least {
		short := &PasswordTooShortError{Min: least}
		return &ValidationError{Field: "password", Reason: short.reason(), err: short}
	}
	return nil
}

// PasswordTooShortError reports a password shorter than the store's
// minimum ([WithMinPasswordLen]). [Store.Create] and [Store.SetPassword]
// return it inside a [*ValidationError] on the field "password"; find it
// with errors.As to read the minimum. It matches [ErrPasswordTooShort] and
// [ErrInvalidPassword] under errors.Is.
type PasswordTooShortError struct {
	// Min is the shortest length accepted, in characters.
	Min int
}

// Error returns "users: password: must be at least <Min> characters".
func (e *PasswordTooShortError) Error() string { return "users: password: " + e.reason() }

func (e *PasswordTooShortError) reason() string {
	return fmt.Sprintf("must be at least %d characters", e.Min)
}

// Unwrap returns [ErrPasswordTooShort] and [ErrInvalidPassword].
func (e *PasswordTooShortError) Unwrap() []error {
	return []error{ErrPasswordTooShort, ErrInvalidPassword}
}
