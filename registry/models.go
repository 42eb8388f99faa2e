package registry

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Token is one issued token, as the registry remembers it. Tokens form trees:
// a refresh token is the parent of the access tokens it issued, a rotated
// refresh token the parent of its replacement; the root of a tree is a
// session's first refresh token, and every token of the tree carries its jti
// as SessionID.
type Token struct {
	// ID is the registry's own key, used by the expire endpoint and the
	// admin pages. It is not the jti.
	ID  int64  `gorm:"column:id;primaryKey;autoIncrement" json:"id,string"`
	JTI string `gorm:"column:jti;size:64;not null;uniqueIndex:idx_ginjwt_tokens_jti" json:"jti"`
	// Type is "access", "refresh" or "sliding".
	Type string `gorm:"column:type;size:16;not null" json:"type"`
	// ParentID is the token this one was issued from; nil for a session's
	// first token, or when the parent was archived.
	ParentID  *int64    `gorm:"column:parent_id;index:idx_ginjwt_tokens_parent" json:"parent_id,string,omitempty"`
	Parent    *Token    `gorm:"foreignKey:ParentID;constraint:OnDelete:SET NULL" json:"-"`
	SessionID string    `gorm:"column:session_id;size:64;not null;index:idx_ginjwt_tokens_session" json:"session_id"`
	IssuedAt  time.Time `gorm:"column:issued_at;not null" json:"issued_at"`
	ExpiresAt time.Time `gorm:"column:expires_at;not null;index:idx_ginjwt_tokens_expires" json:"expires_at"`
	// RevokedAt is when the token was force-expired; nil while it is not.
	RevokedAt *time.Time `gorm:"column:revoked_at" json:"revoked_at,omitempty"`
	// Generation is the user's cut-off generation the token was issued
	// under (see [Generation]).
	Generation   int64  `gorm:"column:generation;not null;default:0" json:"generation"`
	RevokeReason string `gorm:"column:revoke_reason;size:64;not null;default:''" json:"revoke_reason,omitempty"`
	// LastUsedAt is, on a session's root token, when the session last
	// authenticated a request (to the Options.ActivityEvery).
	LastUsedAt *time.Time `gorm:"column:last_used_at" json:"last_used_at,omitempty"`
	CreatedAt  time.Time  `gorm:"column:created_at;not null" json:"created_at"`
}

// TableName is "ginjwt_tokens".
func (Token) TableName() string { return "ginjwt_tokens" }

// Active reports whether the token is neither revoked nor expired at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// TokenUserConnection connects a token to the user it was issued to.
type TokenUserConnection struct {
	ID        int64     `gorm:"column:id;primaryKey;autoIncrement"`
	TokenID   int64     `gorm:"column:token_id;not null;uniqueIndex:idx_ginjwt_token_users_pair,priority:1"`
	Token     *Token    `gorm:"foreignKey:TokenID;constraint:OnDelete:CASCADE"`
	UserID    string    `gorm:"column:user_id;size:64;not null;uniqueIndex:idx_ginjwt_token_users_pair,priority:2;index:idx_ginjwt_token_users_user"`
	CreatedAt time.Time `gorm:"column:created_at;not null"`
}

// TableName is "ginjwt_token_users".
func (TokenUserConnection) TableName() string { return "ginjwt_token_users" }

// RevocationKind is what a revocation applies to.
type RevocationKind string

// Kind is the former name of [RevocationKind].
//
// Deprecated: use RevocationKind.
type Kind = RevocationKind

// The kinds of revocation.
const (
	// KindToken revokes one token, by jti.
	KindToken RevocationKind = "token"
	// KindSession revokes every token of a session, by sid.
	KindSession RevocationKind = "session"
	// KindUser cuts a user off: every token of the user issued before At.
	KindUser RevocationKind = "user"
)

// Revocation is one entry of the revocation log: append-only, written in
// the same transaction as the revoke itself, and the source of every
// instance's in-memory view of what is revoked. Each instance reads the rows
// whose Until has not passed at start, then the ones with a greater ID.
type Revocation struct {
	ID      int64          `gorm:"column:id;primaryKey;autoIncrement" json:"id"`
	Kind    RevocationKind `gorm:"column:kind;size:16;not null" json:"kind"`
	Subject string         `gorm:"column:subject;size:64;not null;index:idx_ginjwt_revocations_subject" json:"subject"`
	// Generation, for KindUser, is the user's new cut-off generation:
	// tokens of a lower one are revoked. A KindUser entry written before
	// generations existed has 0, and revokes the tokens issued before At.
	Generation int64 `gorm:"column:generation;not null;default:0" json:"generation,omitempty"`
	// At is when the revoke happened (for a legacy KindUser entry, the
	// cut-off time).
	At time.Time `gorm:"column:at;not null" json:"at"`
	// Until is when the entry stops mattering: every token it can affect has
	// expired by then. The archiver deletes entries past it.
	Until     time.Time `gorm:"column:until;not null;index:idx_ginjwt_revocations_until" json:"until"`
	Reason    string    `gorm:"column:reason;size:64;not null;default:''" json:"reason,omitempty"`
	CreatedAt time.Time `gorm:"column:created_at;not null" json:"created_at"`
	// ActorID and ActorIP are who made the revocation and from where, when
	// it was made with a context carrying an [Actor] (see [WithActor]: the
	// admin pages); nil otherwise. They are for the audit trail only: not
	// part of the JSON form, so the revocation feed of client services
	// carries neither.
	ActorID *string `gorm:"column:actor_id;size:64" json:"-"`
	ActorIP *string `gorm:"column:actor_ip;size:45" json:"-"`
}

// TableName is "ginjwt_revocations".
func (Revocation) TableName() string { return "ginjwt_revocations" }

// Migrate creates or updates the registry's tables. It is safe to run at
// every start.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if err := db.WithContext(ctx).AutoMigrate(&Token{}, &TokenUserConnection{}, &Revocation{}, &Generation{}, &PendingRegistration{}, &heartbeat{}); err != nil {
		return fmt.Errorf("registry: migrate: %w", err)
	}
	return nil
}

// dbTime is how the registry writes times: UTC, to the microsecond, so the
// same instant reads back the same from SQLite and PostgreSQL and compares
// correctly as text on SQLite.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
