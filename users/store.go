package users

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Store keeps users in a GORM database (table "ginjwt_users", created by
// [Migrate]). It satisfies ginjwt's UserStore interface. A Store is safe for
// concurrent use.
type Store struct {
	db     *gorm.DB
	hasher *Hasher
	now    func() time.Time
	dummy  string // argon2id hash of a random password, for unknown logins

	minPasswordLen int // WithMinPasswordLen; 0 means 1

	hooksMu     sync.Mutex
	cutOffHooks []CutOffHook
}

// StoreOption configures [NewStore].
type StoreOption func(*Store)

// WithHasher sets the Hasher that hashes and checks passwords.
// Default: NewHasher(DefaultParams, 0). A nil h keeps the default.
func WithHasher(h *Hasher) StoreOption {
	return func(s *Store) {
		if h != nil {
			s.hasher = h
		}
	}
}

// WithClock sets the clock of created_at, updated_at and password_changed_at.
// Default: time.Now. A nil now keeps the default.
func WithClock(now func() time.Time) StoreOption {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// NewStore returns a Store on db. It does not migrate: call [Migrate] first.
//
// It computes, once, an argon2id hash of a random password with the
// hasher's parameters; [Store.Authenticate] checks against it when the
// login names nobody, so that costs the same hashing work as a wrong
// password.
func NewStore(db *gorm.DB, opts ...StoreOption) *Store {
	s := &Store{db: db, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	if s.hasher == nil {
		s.hasher = NewHasher(DefaultParams, 0)
	}
	var secret [32]byte
	_, _ = rand.Read(secret[:]) // never fails since Go 1.24
	s.dummy = hashArgon2id(hex.EncodeToString(secret[:]), s.hasher.Params())
	return s
}

// Hasher returns the Hasher the store hashes and checks passwords with.
func (s *Store) Hasher() *Hasher { return s.hasher }

// DB returns the database the store reads and writes.
func (s *Store) DB() *gorm.DB { return s.db }

// Authenticate returns the active user whose username is exactly login, or,
// when login contains "@" and no username matches, whose e-mail is login
// lower-cased, provided password matches the user's hash.
//
// It fails with [ErrInvalidCredentials] when the login names nobody, when
// the password is wrong, when the account is inactive (the password is
// checked first), when the user has no usable password hash, and when the
// password is empty or longer than [MaxPasswordLen] (refused before any
// database read, after the same hashing work). Every one of these paths
// performs exactly one argon2id or bcrypt check, so timing does not tell
// whether the login exists. A stored hash that cannot be read still fails
// with ErrInvalidCredentials, wrapping the hash error for the logs; never
// show err.Error() to clients. A database failure is wrapped; a context
// that ends while waiting for a hashing slot fails with its error.
//
// On success, when [NeedsRehash] reports that the hash (bcrypt, or argon2id
// with other parameters) is outdated, the password is re-hashed with the
// hasher's parameters and saved; a failure to save is ignored. The returned
// user carries the hash as stored.
func (s *Store) Authenticate(ctx context.Context, login, password string) (*User, error) {
	if !validPassword(password) {
		return nil, s.burn(ctx)
	}
	u, err := s.lookup(ctx, login)
	if errors.Is(err, ErrNotFound) {
		return nil, s.burn(ctx)
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		return nil, s.burn(ctx)
	}
	ok, err := s.hasher.Check(ctx, u.PasswordHash, password)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrBusy) {
			// Not checked: no slot (in time). Waiting again for the dummy
			// would make a known login slower to fail than an unknown one.
			return nil, err
		}
		// The hash was unreadable: no work was done, so do it now.
		if burnErr := s.burn(ctx); !errors.Is(burnErr, ErrInvalidCredentials) {
			return nil, burnErr
		}
		return nil, fmt.Errorf("%w (stored hash: %w)", ErrInvalidCredentials, err)
	}
	if !ok || !u.IsActive {
		return nil, ErrInvalidCredentials
	}
	s.rehash(ctx, u, password)
	return u, nil
}

// burn does the hashing work of a failed login and returns
// ErrInvalidCredentials, or ctx's error when ctx ends first.
func (s *Store) burn(ctx context.Context) error {
	if _, err := s.hasher.Check(ctx, s.dummy, "not the dummy password"); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// lookup finds login by username, then by e-mail when it looks like one.
func (s *Store) lookup(ctx context.Context, login string) (*User, error) {
	u, err := s.findBy(ctx, "username", login)
	if errors.Is(err, ErrNotFound) && strings.Contains(login, "@") {
		u, err = s.findBy(ctx, "email", strings.ToLower(login))
	}
	return u, err
}

// AccountKey returns the ID of the user that login names for
// [Store.Authenticate] (username exactly, then e-mail lower-cased when login
// contains "@"), active or not, or "" when it names nobody, so that ginjwt's
// login throttle counts the username and the e-mail of one account against
// one limit. It reads the id column through the unique indexes and checks no
// password. A database failure is wrapped.
func (s *Store) AccountKey(ctx context.Context, login string) (string, error) {
	id, err := s.idBy(ctx, "username", login)
	if err == nil && id == "" && strings.Contains(login, "@") {
		id, err = s.idBy(ctx, "email", strings.ToLower(login))
	}
	return id, err
}

// idBy takes the id of the user whose column equals value, "" when there is
// none; column is a constant.
func (s *Store) idBy(ctx context.Context, column, value string) (string, error) {
	if !findable(value) {
		return "", nil
	}
	var ids []string
	err := s.db.WithContext(ctx).Model(&User{}).Where(column+" = ?", value).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return "", dbError("find user id by "+column, err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// rehash replaces u's outdated hash, best effort. The UPDATE only applies if
// the hash is still the one just checked, so a concurrent password change wins.
func (s *Store) rehash(ctx context.Context, u *User, password string) {
	if !NeedsRehash(u.PasswordHash, s.hasher.Params()) {
		return
	}
	encoded, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return
	}
	res := s.db.WithContext(ctx).Model(&User{}).
		Where("id = ? AND password_hash = ?", u.ID, u.PasswordHash).
		UpdateColumn("password_hash", encoded)
	if res.Error == nil && res.RowsAffected == 1 {
		u.PasswordHash = encoded
	}
}

// Find returns the user with that id, active or not. It fails with
// [ErrNotFound] when there is none, and with a wrapped error when the
// database fails.
func (s *Store) Find(ctx context.Context, id string) (*User, error) {
	return s.findBy(ctx, "id", id)
}

// FindByUsername returns the user whose username is exactly username,
// active or not. It fails with [ErrNotFound] when there is none, and with a
// wrapped error when the database fails.
func (s *Store) FindByUsername(ctx context.Context, username string) (*User, error) {
	return s.findBy(ctx, "username", username)
}

// findBy takes the user whose column equals value; column is a constant.
func (s *Store) findBy(ctx context.Context, column, value string) (*User, error) {
	if !findable(value) {
		return nil, ErrNotFound
	}
	var u User
	err := s.db.WithContext(ctx).Where(column+" = ?", value).Take(&u).Error
	if err != nil {
		return nil, dbError("find user by "+column, err)
	}
	return &u, nil
}

// List returns up to limit users ordered by username (in the database's
// collation), skipping the first offset. limit ≤ 0 means no limit; offset
// ≤ 0 skips none. An empty page is an empty, non-nil slice. It fails with a
// wrapped error when the database fails.
func (s *Store) List(ctx context.Context, limit, offset int) ([]User, error) {
	q := s.db.WithContext(ctx).Order("username")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	list := []User{}
	if err := q.Find(&list).Error; err != nil {
		return nil, dbError("list users", err)
	}
	return list, nil
}
