package users

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// NewUser returns an active user named username, with no e-mail, no flags
// and no perms, ready for [Store.Create]. A User built by hand is inactive
// unless IsActive is set, and an inactive user cannot log in.
func NewUser(username string) *User {
	return &User{Username: username, IsActive: true, Perms: Perms{}}
}

// Create validates u, hashes password with the store's Hasher and inserts u,
// filling in its ID (when empty), PasswordHash, CreatedAt and UpdatedAt
// (when zero). It stores u as given otherwise: IsActive is false unless the
// caller set it (see [NewUser]). The e-mail is lower-cased.
//
// The username must be non-empty, at most [MaxUsernameLen] characters,
// without leading or trailing white space or control characters; the e-mail
// is optional and otherwise name@domain. A bad field fails with a
// [*ValidationError] naming it; a bad password's error also matches
// [ErrInvalidPassword]. A username, e-mail or id already in use fails with
// a *ValidationError that matches [ErrDuplicate]. A password shorter than
// the store's minimum ([WithMinPasswordLen]) fails with a *ValidationError
// matching [ErrPasswordTooShort] and ErrInvalidPassword. Other database
// failures are wrapped.
func (s *Store) Create(ctx context.Context, u *User, password string) error {
	if err := validateUser(u); err != nil {
		return err
	}
	if err := s.checkNewPassword(password); err != nil {
		return err
	}
	encoded, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash = encoded
	now := s.now()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = now
	}
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		return dbError("create user", err)
	}
	return nil
}

// SetPassword hashes password and stores it with PasswordChangedAt set to
// now, the user's token cut-off, in one UPDATE. It fails with a
// [*ValidationError] matching [ErrInvalidPassword] for an empty or too long
// password or one shorter than the store's minimum (then also
// [ErrPasswordTooShort]; see [WithMinPasswordLen]), with [ErrNotFound] when no user has that id, and with a wrapped
// error when the database fails.
func (s *Store) SetPassword(ctx context.Context, id, password string) error {
	if err := s.checkNewPassword(password); err != nil {
		return err
	}
	encoded, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.now()
	return s.updateCuttingOff(ctx, "set password", id, now, map[string]any{
		"password_hash":       encoded,
		"password_changed_at": now,
		"updated_at":          now,
	})
}

// SetActive activates or deactivates the user. An inactive user fails
// [Store.Authenticate]; deactivating also runs the cut-off hooks, so the
// token registry refuses the user's tokens from then on. It fails with
// [ErrNotFound] when no user has that id, and with a wrapped error when the
// database fails.
func (s *Store) SetActive(ctx context.Context, id string, active bool) error {
	now := s.now()
	columns := map[string]any{"is_active": active, "updated_at": now}
	if active {
		return s.update(ctx, "set active", id, columns)
	}
	return s.updateCuttingOff(ctx, "deactivate", id, now, columns)
}

// TouchLastLogin sets the user's LastLogin to at, leaving UpdatedAt alone:
// a login is not an edit of the account. It fails with [ErrNotFound] when
// no user has that id, and with a wrapped error when the database fails.
func (s *Store) TouchLastLogin(ctx context.Context, id string, at time.Time) error {
	return s.update(ctx, "touch last login", id, map[string]any{"last_login": at})
}

// SetPerms replaces the user's permissions with perms (none: an empty list).
// It fails with [ErrNotFound] when no user has that id, and with a wrapped
// error when the database fails.
func (s *Store) SetPerms(ctx context.Context, id string, perms ...string) error {
	p := Perms(slices.Clone(perms))
	if p == nil {
		p = Perms{}
	}
	return s.update(ctx, "set perms", id, map[string]any{
		"perms":      p,
		"updated_at": s.now(),
	})
}

// update sets columns on the user with that id, in one UPDATE that does not
// run hooks or touch columns not named.
func (s *Store) update(ctx context.Context, op, id string, columns map[string]any) error {
	return updateIn(s.db.WithContext(ctx), op, id, columns)
}

func updateIn(db *gorm.DB, op, id string, columns map[string]any) error {
	if !findable(id) {
		return ErrNotFound
	}
	res := db.Model(&User{}).Where("id = ?", id).UpdateColumns(columns)
	if res.Error != nil {
		return dbError(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// CutOffHook is told, inside the transaction that changes a user's password
// or deactivates the user, that the user's tokens issued before at must no
// longer be accepted. An error rolls the change back. The function it
// returns, when not nil, runs once the transaction has committed. The token
// registry's CutOffInTx is one.
type CutOffHook func(ctx context.Context, tx *gorm.DB, userID string, at time.Time) (afterCommit func(), err error)

// OnCutOff adds a hook that SetPassword and SetActive(false) run in their
// transaction, after the database's (see [SetDatabaseCutOff]: the token
// registry needs no OnCutOff).
func (s *Store) OnCutOff(h CutOffHook) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.cutOffHooks = append(s.cutOffHooks, h)
}

// updateCuttingOff updates the user and runs the cut-off hooks, in one
// transaction.
func (s *Store) updateCuttingOff(ctx context.Context, op, id string, at time.Time, columns map[string]any) error {
	hooks := s.cutOffHooksNow()
	if len(hooks) == 0 {
		return s.update(ctx, op, id, columns)
	}
	var after []func()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		after = after[:0]
		if err := updateIn(tx, op, id, columns); err != nil {
			return err
		}
		for _, h := range hooks {
			fn, err := h(ctx, tx, id, at)
			if err != nil {
				return fmt.Errorf("users: %s: cut-off: %w", op, err)
			}
			if fn != nil {
				after = append(after, fn)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, fn := range after {
		fn()
	}
	return nil
}
