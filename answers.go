package ginjwt

import (
	"time"

	"github.com/ginjwt/ginjwt/users"
)

// ResultBody is the JSON body of every successful answer that reports an
// action done rather than carrying tokens or a resource: logout, session
// revocation, log out everywhere and force-expiry.
//
//	{"result": "session_revoked", "message": "the session is revoked", "sessions": ["Le9BIxRUXfAxvWoS7okZNA"]}
//
// Result is a stable code a client may switch on (as Error is in
// [ErrorBody]); Message is for people and may change. Sessions lists the
// sessions revoked, when the answer revokes sessions by ID; Tokens counts
// the tokens force-expired.
type ResultBody struct {
	Result   string   `json:"result"`
	Message  string   `json:"message"`
	Sessions []string `json:"sessions,omitzero"`
	Tokens   *int     `json:"tokens,omitempty"`
	// Detail repeats Message on the logout answers, whose body was
	// {"detail": "logged out"} before ResultBody.
	//
	// Deprecated: read Result (or Message); Detail will go.
	Detail string `json:"detail,omitempty"`
}

// The results of [ResultBody].
const (
	// ResultLoggedOut: POST or DELETE {Prefix}/token/logout. The answer is
	// the same whether or not the token presented could end a session
	// (RFC 7009 §2.2).
	ResultLoggedOut = "logged_out"
	// ResultSessionRevoked: DELETE {Prefix}/sessions/:id; Sessions holds
	// the ID.
	ResultSessionRevoked = "session_revoked"
	// ResultSessionsRevoked: DELETE {Prefix}/sessions?keep=current; Sessions
	// lists every session revoked (possibly none).
	ResultSessionsRevoked = "sessions_revoked"
	// ResultLoggedOutEverywhere: DELETE {Prefix}/sessions: every token of the
	// caller issued until now is refused, the caller's own included.
	ResultLoggedOutEverywhere = "logged_out_everywhere"
	// ResultTokensExpired: POST {Prefix}/token/expire; Tokens counts the
	// tokens revoked (the token and its subtree).
	ResultTokensExpired = "tokens_expired"
)

// jsonTime is how every time in ginjwt's JSON answers is written: RFC 3339,
// in UTC, to the whole second ("2026-11-22T22:17:00Z"), truncated. Token
// expiries are whole seconds already (exp is a NumericDate), activity is
// recorded to the second, and one fixed form lets a client parse every
// answer the same way.
type jsonTime struct{ time.Time }

// MarshalJSON writes t as a JSON string, RFC 3339 UTC to the second.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(`"2006-01-02T15:04:05Z"`))
	b = append(b, '"')
	b = t.UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

// jsonTimePtr is t as a jsonTime, nil when t is.
func jsonTimePtr(t *time.Time) *jsonTime {
	if t == nil {
		return nil
	}
	return &jsonTime{*t}
}

// userView is GET {Prefix}/users/me and /users/:id: the JSON form of
// [users.User] (no password material), with times written as jsonTime.
type userView struct {
	ID                string      `json:"id"`
	Username          string      `json:"username"`
	Email             string      `json:"email,omitempty"`
	IsActive          bool        `json:"is_active"`
	IsStaff           bool        `json:"is_staff"`
	IsSuperuser       bool        `json:"is_superuser"`
	Perms             users.Perms `json:"perms"`
	LastLogin         *jsonTime   `json:"last_login,omitempty"`
	PasswordChangedAt *jsonTime   `json:"password_changed_at,omitempty"`
	CreatedAt         jsonTime    `json:"created_at"`
	UpdatedAt         jsonTime    `json:"updated_at"`
}

func userViewOf(u *users.User) userView {
	perms := u.Perms
	if perms == nil {
		perms = users.Perms{}
	}
	return userView{
		ID: u.ID, Username: u.Username, Email: u.Email,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, Perms: perms,
		LastLogin: jsonTimePtr(u.LastLogin), PasswordChangedAt: jsonTimePtr(u.PasswordChangedAt),
		CreatedAt: jsonTime{u.CreatedAt}, UpdatedAt: jsonTime{u.UpdatedAt},
	}
}
