package users

import (
	"context"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Filter selects users for [Store.Search] and [Store.Count]. The zero
// Filter selects every user.
type Filter struct {
	// Match, when not empty, keeps the users whose username or e-mail
	// contains it, ignoring case (on SQLite, the case of ASCII letters
	// only). It is matched literally: "%" and "_" are not wildcards.
	Match string
	// Active, when not nil, keeps only the active (true) or the inactive
	// (false) users.
	Active *bool
}

// Search returns up to limit users that f selects, ordered by username (in
// the database's collation), skipping the first offset: pages that hold
// still while no user is added or removed. limit ≤ 0 means no limit;
// offset ≤ 0 skips none. An empty page is an empty, non-nil slice. It fails
// with a wrapped error when the database fails.
func (s *Store) Search(ctx context.Context, f Filter, limit, offset int) ([]User, error) {
	list := []User{}
	q, ok := s.filtered(ctx, f)
	if !ok {
		return list, nil
	}
	q = q.Order("username")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	if err := q.Find(&list).Error; err != nil {
		return nil, dbError("search users", err)
	}
	return list, nil
}

// Count returns how many users f selects. It fails with a wrapped error
// when the database fails.
func (s *Store) Count(ctx context.Context, f Filter) (int64, error) {
	q, ok := s.filtered(ctx, f)
	if !ok {
		return 0, nil
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, dbError("count users", err)
	}
	return n, nil
}

// filtered starts a query of the users f selects; ok is false when f can
// select nobody (a Match no column can hold), without asking the database.
func (s *Store) filtered(ctx context.Context, f Filter) (q *gorm.DB, ok bool) {
	q = s.db.WithContext(ctx).Model(&User{})
	if f.Match != "" {
		// PostgreSQL refuses to compare with these, and no stored
		// username or e-mail contains them.
		if !utf8.ValidString(f.Match) || strings.ContainsRune(f.Match, 0) {
			return nil, false
		}
		// LOWER folds ASCII only on SQLite (all of Unicode on PostgreSQL):
		// the text as typed is matched too, so "Émile" finds Émile there.
		lower := "%" + likeEscaper.Replace(strings.ToLower(f.Match)) + "%"
		typed := "%" + likeEscaper.Replace(f.Match) + "%"
		q = q.Where(`(LOWER(username) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\' OR username LIKE ? ESCAPE '\')`, lower, lower, typed)
	}
	if f.Active != nil {
		q = q.Where("is_active = ?", *f.Active)
	}
	return q, true
}

// likeEscaper makes a string match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
