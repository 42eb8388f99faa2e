package users

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// User is an account: the default GORM model, and the value every [ginjwt]
// UserStore hands back, whatever it keeps its users in.
//
// Its JSON form carries no password material.
type User struct {
	// ID is the primary key: a random, time-ordered UUID assigned on create
	// when empty. Stores of other shapes put their own key here as a string.
	ID       string `gorm:"column:id;primaryKey;size:64" json:"id"`
	Username string `gorm:"column:username;size:150;not null;uniqueIndex:idx_users_username" json:"username"`
	// Email is optional, unique when set, stored lower-case; a login may use
	// it in place of the username.
	Email        string `gorm:"column:email;size:254;not null;default:'';uniqueIndex:idx_users_email,where:email <> ''" json:"email,omitempty"`
	PasswordHash string `gorm:"column:password_hash;size:255;not null;default:''" json:"-"`
	IsActive     bool   `gorm:"column:is_active;not null" json:"is_active"`
	IsStaff      bool   `gorm:"column:is_staff;not null" json:"is_staff"`
	IsSuperuser  bool   `gorm:"column:is_superuser;not null" json:"is_superuser"`
	// Perms are the permission names RequirePerms checks, carried in tokens.
	Perms Perms `gorm:"column:perms;type:text;not null" json:"perms"`
	// LastLogin is set on each login when the UpdateLastLogin option is on.
	LastLogin *time.Time `gorm:"column:last_login" json:"last_login,omitempty"`
	// PasswordChangedAt is when the password last changed. Store.SetPassword
	// also cuts the user's tokens off, in the same transaction, when a token
	// registry runs on the store's database (see SetDatabaseCutOff): every
	// session that existed before the change is refused.
	PasswordChangedAt *time.Time `gorm:"column:password_changed_at" json:"password_changed_at,omitempty"`
	CreatedAt         time.Time  `gorm:"column:created_at;not null" json:"created_at"`
	UpdatedAt         time.Time  `gorm:"column:updated_at;not null" json:"updated_at"`
}

// TableName is "ginjwt_users".
func (User) TableName() string { return "ginjwt_users" }

// BeforeCreate assigns an ID when the user has none.
func (u *User) BeforeCreate(*gorm.DB) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.Perms == nil {
		u.Perms = Perms{}
	}
	return nil
}

// HasPerms reports whether the user holds every one of perms. A superuser
// holds them all.
func (u *User) HasPerms(perms ...string) bool {
	if u.IsSuperuser {
		return true
	}
	for _, p := range perms {
		if !slices.Contains(u.Perms, p) {
			return false
		}
	}
	return true
}

// Perms is a list of permission names, stored as a JSON array in a text
// column so it reads the same on SQLite and PostgreSQL.
type Perms []string

// Value implements driver.Valuer.
func (p Perms) Value() (driver.Value, error) {
	if p == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(p))
	return string(b), err
}

// Scan implements sql.Scanner.
func (p *Perms) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*p = Perms{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("users: cannot scan %T into Perms", src)
	}
	if len(b) == 0 {
		*p = Perms{}
		return nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("users: perms column is not a JSON array: %w", err)
	}
	*p = out
	return nil
}

// NewID returns a UUID version 7: random, and ordered by creation time so
// primary-key indexes stay compact.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
