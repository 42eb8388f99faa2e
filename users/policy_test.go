package users

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

func TestMinPasswordLen(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		// An account from before the policy: its short password keeps working.
		old := e.create(t, "old", "")
		strict := NewStore(db, WithHasher(e.store.Hasher()), WithClock(e.clock.Now), WithMinPasswordLen(DefaultMinPasswordLen))
		if got := strict.MinPasswordLen(); got != 8 {
			t.Fatalf("MinPasswordLen() = %d; want 8", got)
		}
		cutOffs := 0
		strict.OnCutOff(func(context.Context, *gorm.DB, string, time.Time) (func(), error) {
			cutOffs++
			return nil, nil
		})

		for _, pw := range []string{"a", "1234567", "ééééééé" /* 7 characters, 14 bytes */} {
			err := strict.Create(e.ctx, NewUser("bob"), pw)
			checkTooShort(t, "Create("+pw+")", err, 8)
			err = strict.SetPassword(e.ctx, old.ID, pw)
			checkTooShort(t, "SetPassword("+pw+")", err, 8)
		}
		if n := e.count(t); n != 1 {
			t.Fatalf("%d users stored; a refused Create stored one", n)
		}
		if cutOffs != 0 {
			t.Fatalf("a refused SetPassword ran %d cut-off hooks", cutOffs)
		}
		if _, err := strict.Authenticate(e.ctx, "old", "pw-old"); err != nil {
			t.Fatalf("a password from before the policy no longer logs in: %v", err)
		}

		for _, pw := range []string{"12345678", "pässwört" /* 8 characters */} {
			if err := strict.Create(e.ctx, NewUser("u-"+pw), pw); err != nil {
				t.Fatalf("Create(%q): %v", pw, err)
			}
		}
		if err := strict.SetPassword(e.ctx, old.ID, "long enough"); err != nil || cutOffs != 1 {
			t.Fatalf("SetPassword: %v, %d cut-offs", err, cutOffs)
		}
		// Empty and overlong passwords keep their own error.
		for _, pw := range []string{"", strings.Repeat("p", MaxPasswordLen+1)} {
			err := strict.Create(e.ctx, NewUser("carol"), pw)
			if !errors.Is(err, ErrInvalidPassword) || errors.Is(err, ErrPasswordTooShort) {
				t.Fatalf("Create(%d bytes) = %v; want ErrInvalidPassword only", len(pw), err)
			}
		}
	})
}

func checkTooShort(t *testing.T, what string, err error, want int) {
	t.Helper()
	var short *PasswordTooShortError
	var ve *ValidationError
	switch {
	case !errors.Is(err, ErrPasswordTooShort) || !errors.Is(err, ErrInvalidPassword):
		t.Fatalf("%s = %v; want ErrPasswordTooShort and ErrInvalidPassword", what, err)
	case !errors.As(err, &short) || short.Min != want:
		t.Fatalf("%s = %v; want a *PasswordTooShortError with Min %d", what, err, want)
	case !errors.As(err, &ve) || ve.Field != "password":
		t.Fatalf("%s = %v; want a *ValidationError on password", what, err)
	case err.Error() != "users: password: must be at least 8 characters":
		t.Fatalf("%s: message %q", what, err)
	}
}

func TestMinPasswordLenDefault(t *testing.T) {
	t.Parallel()
	for _, s := range []*Store{NewStore(nil), NewStore(nil, WithMinPasswordLen(0)), NewStore(nil, WithMinPasswordLen(-3))} {
		if got := s.MinPasswordLen(); got != 1 {
			t.Fatalf("MinPasswordLen() = %d; want 1", got)
		}
		if err := s.checkNewPassword("x"); err != nil {
			t.Fatalf("a one-character password is refused without a policy: %v", err)
		}
	}
	if err := NewStore(nil, WithMinPasswordLen(12)).checkNewPassword("eleven char"); !errors.Is(err, ErrPasswordTooShort) || !strings.Contains(err.Error(), "at least 12 characters") {
		t.Fatalf("a minimum of 12: %v", err)
	}
}
