package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/users"
)

// RemoteUser is a user as the auth service shows it at GET
// {AuthPrefix}/users/:id (its Config.Service.UserView).
type RemoteUser struct {
	// ID is the user's ID, the same on every service.
	ID string
	// Raw is the whole answer, with the fields and data the auth service's
	// UserView chose (an access group, per-service permissions).
	Raw json.RawMessage
}

// UserMapper writes the auth service's representation of a user into this
// service's database, in tx: create the local copy or overwrite it, with
// any data of the application's own (easyjwt's serializer create/update).
// The transaction commits only when it returns nil, so a copy is never
// half-written.
type UserMapper func(ctx context.Context, tx *gorm.DB, u RemoteUser) error

// DefaultUserMapper copies the users.User fields of the default
// representation (id, username, email, is_active, is_staff, is_superuser,
// perms) into the users table, overwriting the local row; a local row of
// another user holding the same username (reused on the auth service) is
// renamed "~released:<its id>", one holding the same email loses it. The copy has no password: it can never log
// in here.
func DefaultUserMapper(ctx context.Context, tx *gorm.DB, u RemoteUser) error {
	var v struct {
		ID          string      `json:"id"`
		Username    string      `json:"username"`
		Email       string      `json:"email"`
		IsActive    bool        `json:"is_active"`
		IsStaff     bool        `json:"is_staff"`
		IsSuperuser bool        `json:"is_superuser"`
		Perms       users.Perms `json:"perms"`
	}
	if err := json.Unmarshal(u.Raw, &v); err != nil {
		return fmt.Errorf("remote: the user's representation: %w", err)
	}
	if v.ID != u.ID || v.Username == "" {
		return errors.New("remote: the user's representation lacks its id or username")
	}
	// The username is unique too, and the email: one held here by another
	// user's copy (the auth service gave it to this user since) is freed
	// first, the other copy renamed to a placeholder (its email cleared)
	// until that user is fetched again.
	var holders []string
	if err := tx.WithContext(ctx).Model(&users.User{}).Where("username = ? AND id <> ?", v.Username, v.ID).Pluck("id", &holders).Error; err != nil {
		return err
	}
	for _, id := range holders {
		if err := tx.WithContext(ctx).Model(&users.User{}).Where("id = ?", id).UpdateColumn("username", "~released:"+id).Error; err != nil {
			return err
		}
	}
	if v.Email != "" { // unique when set, as well: the other copy's is cleared
		if err := tx.WithContext(ctx).Model(&users.User{}).Where("email = ? AND id <> ?", v.Email, v.ID).UpdateColumn("email", "").Error; err != nil {
			return err
		}
	}
	row := users.User{ID: v.ID, Username: v.Username, Email: v.Email, IsActive: v.IsActive, IsStaff: v.IsStaff,
		IsSuperuser: v.IsSuperuser, Perms: v.Perms}
	return tx.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"username", "email", "is_active", "is_staff", "is_superuser", "perms", "updated_at"}),
	}).Create(&row).Error
}

// userSync keeps the local copies: a user is fetched and written through
// the UserMapper after a login here and on the first request of a user
// this process has not seen (again after a cut-off of the user on the
// feed).
type userSync struct {
	cl    *Client
	group singleflight.Group
	mu    sync.RWMutex
	seen  map[string]struct{}
}

// maxSeen bounds the users remembered as synced; when full it starts over
// (the next request of each syncs again).
const maxSeen = 100_000

func (s *userSync) has(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.seen[id]
	return ok
}

func (s *userSync) forget(id string) {
	s.mu.Lock()
	delete(s.seen, id)
	s.mu.Unlock()
}

// sync fetches the user from the auth service and writes the local copy;
// concurrent calls for one user share the work, which runs detached from
// the first caller's context (its client leaving must not fail the
// others), bounded by Timeout.
func (s *userSync) sync(ctx context.Context, id string) error {
	_, err, _ := s.group.Do(id, func() (any, error) {
		cfg := &s.cl.cfg
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout)
		defer cancel()
		a, err := s.cl.call(ctx, http.MethodGet, cfg.authURL(cfg.AuthPaths.Users+"/"+url.PathEscape(id)), nil, nil)
		if err != nil {
			return nil, err
		}
		var probe struct {
			ID string `json:"id"`
		}
		if err := a.decode(&probe); err != nil {
			return nil, err
		}
		if probe.ID != id {
			return nil, fmt.Errorf("%w: the user answered is not the one asked for", ginjwt.ErrRemoteBadAnswer)
		}
		u := RemoteUser{ID: id, Raw: json.RawMessage(a.body)}
		err = cfg.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return cfg.UserMapper(ctx, tx, u) })
		if err != nil {
			return nil, fmt.Errorf("remote: writing the local copy of user %s: %w", id, err)
		}
		s.mu.Lock()
		if len(s.seen) >= maxSeen {
			clear(s.seen)
		}
		s.seen[id] = struct{}{}
		s.mu.Unlock()
		return nil, nil
	})
	return err
}

// middleware syncs the user of an authenticated request not seen yet (a
// token of the auth service, not of Config.Issuers),
// before the application's handlers run; if the auth service cannot be
// reached it answers remote_unavailable.
func (s *userSync) middleware(c *gin.Context) {
	claims, ok := ginjwt.ClaimsFrom(c)
	if ok && !claims.External() && !s.has(claims.UserID) { // another issuer's user is not the auth service's
		if err := s.sync(c.Request.Context(), claims.UserID); err != nil {
			s.cl.fail(c, err)
			return
		}
	}
	c.Next()
}
