package ginjwt

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/registry"
)

// expire is POST /token/expire: {"token": "<jwt>"} or {"id": "<registry
// id>"}. The caller force-expires that token and its subtree: a token of
// their own, or anyone's with Config.Registry.ExpireAnyPerm. A registry ID that is
// not the caller's is not found; a token of someone else is forbidden.
func (a *Auth) expire(c *gin.Context) {
	caller := requireOwnLogin(c)
	if caller == nil {
		return
	}
	ctx := c.Request.Context()
	f, err := a.bodyFields(c, "token", "id")
	if err != nil {
		AbortWithError(c, err)
		return
	}
	mayAny := caller.HasPerms(a.cfg.Registry.ExpireAnyPerm)
	var target *registry.Token
	var owner string
	switch token, id := f["token"], f["id"]; {
	case token != "" && id != "":
		err = withDetail(ErrBadRequest, "send token or id, not both")
	case token != "":
		var claims *Claims
		claims, err = a.parse(token)
		if claims == nil {
			break
		}
		owner, err = claims.UserID, nil
		if owner != caller.UserID && !mayAny {
			err = withDetail(ErrPermissionDenied, "this token is not yours")
			break
		}
		target, err = a.registry.Record(ctx, claims.pipelineToken())
	case id != "":
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil || n <= 0 {
			err = withDetail(ErrBadRequest, "id must be a registry token ID")
			break
		}
		target, err = a.registry.Find(ctx, n)
		if err == nil {
			owner, err = a.registry.Owner(ctx, n)
		}
		if errors.Is(err, registry.ErrNotFound) || (err == nil && owner != caller.UserID && !mayAny) {
			err = ErrNotFound
		}
	default:
		err = withDetail(ErrBadRequest, "token or id is required")
	}
	if err != nil {
		AbortWithError(c, err)
		return
	}
	n, err := a.registry.Expire(ctx, target.ID)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	a.events.emit(ctx, Event{Kind: TokenRevoked, Time: a.now(), UserID: owner, SessionID: target.SessionID,
		Request: a.proxies.facts(c), Reason: registry.ReasonExpired})
	c.JSON(http.StatusOK, ResultBody{Result: ResultTokensExpired, Message: "the token and its subtree are revoked", Tokens: &n})
}

// deviceView is a session's device in GET /sessions.
type deviceView struct {
	Label          string `json:"label"`
	Browser        string `json:"browser"`
	BrowserVersion string `json:"browser_version"`
	OS             string `json:"os"`
	OSVersion      string `json:"os_version"`
	Platform       string `json:"platform"`
	Mobile         bool   `json:"mobile"`
	Bot            bool   `json:"bot"`
	UserAgent      string `json:"user_agent"`
}

func deviceViewOf(d device.SessionDevice) *deviceView {
	i := d.Interlocutor
	return &deviceView{Label: d.Label, Browser: i.Browser, BrowserVersion: i.BrowserVersion, OS: i.OS, OSVersion: i.OSVersion,
		Platform: i.Platform, Mobile: i.Mobile, Bot: i.Bot, UserAgent: i.Raw}
}

// sessionView is one session in GET /sessions. Device and IP are set with
// the device registry on.
type sessionView struct {
	ID         string      `json:"id"`
	Current    bool        `json:"current"`
	Device     *deviceView `json:"device"`
	IP         string      `json:"ip"`
	CreatedAt  jsonTime    `json:"created_at"`
	LastUsedAt jsonTime    `json:"last_used_at"`
	ExpiresAt  jsonTime    `json:"expires_at"`
}

// sessions is GET /sessions: the caller's active sessions, the one the
// request came from marked current.
func (a *Auth) sessions(c *gin.Context) {
	caller := requireOwnLogin(c)
	if caller == nil {
		return
	}
	if err := a.flushPending(c.Request.Context(), caller.UserID); err != nil {
		AbortWithError(c, err)
		return
	}
	list, err := a.registry.Sessions(c.Request.Context(), caller.UserID)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	var devices map[string]device.SessionDevice
	if a.devices != nil {
		sids := make([]string, 0, len(list))
		for _, s := range list {
			sids = append(sids, s.ID)
		}
		if devices, err = a.devices.SessionDevices(c.Request.Context(), sids); err != nil {
			AbortWithError(c, err)
			return
		}
	}
	out := make([]sessionView, 0, len(list))
	for _, s := range list {
		v := sessionView{
			ID: s.ID, Current: s.ID == caller.SessionID,
			CreatedAt: jsonTime{s.CreatedAt}, LastUsedAt: jsonTime{s.LastUsedAt}, ExpiresAt: jsonTime{s.ExpiresAt},
		}
		if d, ok := devices[s.ID]; ok {
			v.Device, v.IP = deviceViewOf(d), d.IP
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, gin.H{"sessions": out})
}

// revokeSessionByID is DELETE /sessions/:id: revoke one of the caller's
// sessions. Another user's session is not found.
func (a *Auth) revokeSessionByID(c *gin.Context) {
	caller := requireOwnLogin(c)
	if caller == nil {
		return
	}
	ctx := c.Request.Context()
	sid := c.Param("id")
	if err := a.flushPending(ctx, caller.UserID); err != nil {
		AbortWithError(c, err)
		return
	}
	owner, err := a.registry.SessionOwner(ctx, sid)
	if errors.Is(err, registry.ErrNotFound) || (err == nil && owner != caller.UserID) {
		err = ErrNotFound
	}
	if err != nil {
		AbortWithError(c, err)
		return
	}
	err = a.revokeSession(ctx, Event{UserID: caller.UserID, Username: caller.Username, SessionID: sid,
		Request: a.proxies.facts(c), Reason: registry.ReasonLogout})
	if err != nil {
		AbortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, ResultBody{Result: ResultSessionRevoked, Message: "the session is revoked", Sessions: []string{sid}})
}

// revokeSessions is DELETE /sessions: log out everywhere. Every token of the
// caller issued until now stops working, the caller's own included; with
// ?keep=current the session the request came from survives and each other
// session is revoked instead.
func (a *Auth) revokeSessions(c *gin.Context) {
	caller := requireOwnLogin(c)
	if caller == nil {
		return
	}
	ctx := c.Request.Context()
	switch keep := c.Query("keep"); keep {
	case "":
		if err := a.LogoutEverywhere(ctx, caller.UserID); err != nil {
			AbortWithError(c, err)
			return
		}
		c.JSON(http.StatusOK, ResultBody{Result: ResultLoggedOutEverywhere, Message: "every session is revoked"})
	case "current":
		if err := a.flushPending(ctx, caller.UserID); err != nil {
			AbortWithError(c, err)
			return
		}
		list, err := a.registry.Sessions(ctx, caller.UserID)
		if err != nil {
			AbortWithError(c, err)
			return
		}
		revoked := []string{}
		for _, s := range list {
			if s.ID == caller.SessionID {
				continue
			}
			err := a.revokeSession(ctx, Event{UserID: caller.UserID, Username: caller.Username, SessionID: s.ID,
				Request: a.proxies.facts(c), Reason: registry.ReasonLogout})
			if err != nil {
				AbortWithError(c, err)
				return
			}
			revoked = append(revoked, s.ID)
		}
		c.JSON(http.StatusOK, ResultBody{Result: ResultSessionsRevoked, Message: "every other session is revoked", Sessions: revoked})
	default:
		AbortWithError(c, withDetail(ErrBadRequest, `keep must be "current" or absent`))
	}
}
