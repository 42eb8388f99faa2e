package admin

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// tokenRow is one token of a session's tree.
type tokenRow struct {
	registry.Token
	Depth  int    // 0 for refresh and sliding tokens, 1 for the access tokens they issued
	State  string // "active", "expired" or "revoked"
	Reason string // why it is revoked
}

type sessionData struct {
	ID      string
	Owner   *users.User // nil when the user no longer exists
	OwnerID string
	Device  device.SessionDevice
	Tokens  []tokenRow
	Pager   pager
	Active  bool // not revoked as a whole, some token alive
	MayAct  bool
	Devices bool
}

// sessionPage is GET /sessions/:sid?page=: the session's token tree, a
// page at a time, each token with its state.
func (a *Admin) sessionPage(c *gin.Context) {
	sid, ok := a.idParam(c, "sid")
	if !ok {
		return
	}
	n, ok := a.pageParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	owner, ok := a.sessionOwner(c, sid)
	if !ok {
		return
	}
	list, total, err := a.reg.SessionTokens(ctx, sid, a.cfg.PageSize, a.offset(n))
	if err != nil {
		a.serverError(c, err)
		return
	}
	p, ok := a.paginate(c, n, total, func(n int) string { return a.withPage("/sessions/"+url.PathEscape(sid), nil, n) })
	if !ok {
		return
	}
	gen, err := a.reg.Generation(ctx, owner)
	if err != nil {
		a.serverError(c, err)
		return
	}
	d := sessionData{ID: sid, OwnerID: owner, Pager: p, Devices: a.devices != nil}
	if u, err := a.users.Find(ctx, owner); err == nil {
		d.Owner = u
	} else if !errors.Is(err, users.ErrNotFound) {
		a.serverError(c, err)
		return
	}
	d.MayAct = d.Owner == nil || a.mayAct(c, d.Owner)
	if d.Device, err = a.sessionDevice(c, sid); err != nil {
		a.serverError(c, err)
		return
	}
	now := a.reg.Now()
	revoked := a.reg.SessionRevoked(sid)
	for _, t := range list {
		row := tokenRow{Token: t, State: "active"}
		if t.Type == "access" {
			row.Depth = 1
		}
		switch {
		case t.RevokedAt != nil:
			row.State, row.Reason = "revoked", t.RevokeReason
		case revoked:
			row.State, row.Reason = "revoked", "session revoked"
		case t.Generation < gen:
			row.State, row.Reason = "revoked", registry.ReasonCutOff
		case !now.Before(t.ExpiresAt):
			row.State = "expired"
		}
		d.Tokens = append(d.Tokens, row)
	}
	if !revoked {
		if d.Active, err = a.sessionLive(c, sid, gen); err != nil {
			a.serverError(c, err)
			return
		}
	}
	a.render(c, http.StatusOK, "session", "Session "+sid, "users", d)
}

// sessionLive reports whether the session has a live refresh or sliding
// token of the user's generation gen: whether it is one of the user's
// active sessions.
func (a *Admin) sessionLive(c *gin.Context, sid string, gen int64) (bool, error) {
	var ids []int64
	err := a.reg.Tokens(c.Request.Context()).Scopes(registry.InSession(sid), registry.Active(a.reg.Now())).
		Where("ginjwt_tokens.type <> ? AND ginjwt_tokens.generation >= ?", "access", gen).Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, err
}

// revokeSession is POST /sessions/:sid/revoke: every token of the session
// is revoked, at once in this instance.
func (a *Admin) revokeSession(c *gin.Context) {
	sid, ok := a.idParam(c, "sid")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	owner, ok := a.sessionOwner(c, sid)
	if !ok {
		return
	}
	u, err := a.users.Find(ctx, owner)
	switch {
	case err == nil:
		if !a.mayAct(c, u) {
			a.fail(c, http.StatusForbidden, "Forbidden", mayNotAct)
			return
		}
	case !errors.Is(err, users.ErrNotFound):
		a.serverError(c, err)
		return
	}
	if !a.confirmed(c, confirmData{Question: "Revoke session " + sid + "?"}) {
		return
	}
	if err := a.auth.RevokeSession(a.actorContext(c), sid, registry.ReasonAdmin); err != nil {
		a.serverError(c, err)
		return
	}
	back := "/users/" + url.PathEscape(owner)
	if c.Request.PostForm.Get("back") == "session" {
		back = "/sessions/" + url.PathEscape(sid)
	}
	a.redirect(c, back, "session-revoked")
}

// sessionOwner returns the ID of the user whose session sid is, or answers
// the request (404, or the error page) and returns false.
func (a *Admin) sessionOwner(c *gin.Context, sid string) (string, bool) {
	owner, err := a.reg.SessionOwner(c.Request.Context(), sid)
	if errors.Is(err, registry.ErrNotFound) {
		a.notFound(c, "session")
		return "", false
	}
	if err != nil {
		a.serverError(c, err)
		return "", false
	}
	return owner, true
}
