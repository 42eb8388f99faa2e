package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// The proxied endpoints. Each checks locally what this service's
// transport asks (the origin, the CSRF token, that the token presented is
// authentic), forwards to the auth service with this service's credential
// and the client's address and User-Agent, and answers in this service's
// transport mode. An answer of the auth service that is not a success or
// a client error of its own becomes remote_unavailable, and nothing is
// written locally.

// forwarded are the headers of a request forwarded for the client of c:
// its address as ginjwt resolves it, through the trusted proxies only.
func (cl *Client) forwarded(c *gin.Context, contentType string) http.Header {
	h := http.Header{
		ginjwt.ServiceClientIPHeader:  {cl.auth.RequestFacts(c).ClientIP},
		ginjwt.ServiceUserAgentHeader: {c.Request.UserAgent()},
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return h
}

// tokenPair is the auth service's answer to a login or refresh (JSON mode).
type tokenPair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// obtain is POST {Prefix}/token: the credentials go to the auth service as
// the client sent them; the pair it answers is checked, the user's local
// copy written, then the pair delivered.
func (cl *Client) obtain(c *gin.Context) {
	if err := cl.auth.CheckLoginOrigin(c); err != nil {
		ginjwt.AbortWithError(c, err)
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = ginjwt.ErrBodyTooLarge
		} else {
			err = ginjwt.ErrBadRequest
		}
		ginjwt.AbortWithError(c, err)
		return
	}
	cfg := &cl.cfg
	a, err := cl.call(c.Request.Context(), http.MethodPost, cfg.authURL(cfg.AuthPaths.Obtain), body, cl.forwarded(c, c.ContentType()))
	if err != nil {
		cl.fail(c, err)
		return
	}
	cl.answerPair(c, a, true)
}

// answerPair answers with the pair of a, after syncing its user when
// sync is set.
func (cl *Client) answerPair(c *gin.Context, a *answer, sync bool) {
	if a.status != http.StatusOK {
		if err := passOn(c, a); err != nil {
			cl.fail(c, err)
		}
		return
	}
	var p tokenPair
	if err := a.decode(&p); err != nil || p.Access == "" {
		cl.fail(c, badAnswer(err))
		return
	}
	claims, err := cl.auth.ParseToken(p.Access, ginjwt.AccessToken)
	if err != nil {
		// Keys rotated since the last fetch are fetched by ParseToken; a
		// token that still does not verify is the auth service's fault.
		cl.fail(c, badAnswer(err))
		return
	}
	if sync {
		if err := cl.users.sync(c.Request.Context(), claims.UserID); err != nil {
			cl.fail(c, err)
			return
		}
	}
	if err := cl.auth.WriteTokens(c, p.Access, p.Refresh); err != nil {
		cl.fail(c, badAnswer(err))
	}
}

// badAnswer is a failure caused by what the auth service answered (a
// token that does not verify here): 502, whatever the cause says.
func badAnswer(cause error) error {
	if cause == nil {
		return ginjwt.ErrRemoteBadAnswer
	}
	return fmt.Errorf("%w: %v", ginjwt.ErrRemoteBadAnswer, cause)
}

// refresh is POST {Prefix}/token/refresh.
func (cl *Client) refresh(c *gin.Context) {
	token, _, err := cl.auth.RefreshFrom(c)
	if err != nil {
		ginjwt.AbortWithError(c, err)
		return
	}
	body, _ := json.Marshal(map[string]string{"refresh": token})
	cfg := &cl.cfg
	a, err := cl.call(c.Request.Context(), http.MethodPost, cfg.authURL(cfg.AuthPaths.Refresh), body, cl.forwarded(c, "application/json"))
	if err != nil {
		cl.fail(c, err)
		return
	}
	cl.answerPair(c, a, false)
}

// verify is POST {Prefix}/token/verify: the auth service's answer about
// the token of the body (or, in the cookie modes without one, of the
// cookies).
func (cl *Client) verify(c *gin.Context) {
	var in struct {
		Token string `json:"token"`
	}
	body, err := io.ReadAll(c.Request.Body)
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		ginjwt.AbortWithError(c, ginjwt.ErrBadRequest)
		return
	}
	if in.Token == "" && cl.cfg.Mode != ginjwt.JSON {
		if in.Token, err = cl.auth.AccessTokenFrom(c); err != nil {
			ginjwt.AbortWithError(c, err)
			return
		}
	}
	if in.Token == "" {
		ginjwt.AbortWithError(c, ginjwt.ErrTokenMissing)
		return
	}
	out, _ := json.Marshal(map[string]string{"token": in.Token})
	cfg := &cl.cfg
	a, err := cl.call(c.Request.Context(), http.MethodPost, cfg.authURL(cfg.AuthPaths.Verify), out, cl.forwarded(c, "application/json"))
	if err != nil {
		cl.fail(c, err)
		return
	}
	cl.passResource(c, a)
}

// passResource answers with the auth service's JSON answer: a 200 as it
// is (when it is JSON), a client error passed on.
func (cl *Client) passResource(c *gin.Context, a *answer) {
	if a.status != http.StatusOK {
		if err := passOn(c, a); err != nil {
			cl.fail(c, err)
		}
		return
	}
	if !json.Valid(a.body) {
		cl.fail(c, ginjwt.ErrRemoteBadAnswer)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", a.body)
}

// logout is POST (and, in the cookie modes, DELETE) {Prefix}/token/logout:
// the session of the token presented ends on the auth service, and at
// once in this service's revocation set.
func (cl *Client) logout(c *gin.Context) {
	clear := c.Request.Method == http.MethodDelete
	token, claims, err := cl.auth.LogoutFrom(c)
	if err != nil && (!clear || errors.Is(err, ginjwt.ErrCSRFFailed)) {
		ginjwt.AbortWithError(c, err)
		return
	}
	var a *answer
	if token != "" {
		body, _ := json.Marshal(map[string]string{"refresh": token})
		cfg := &cl.cfg
		a, err = cl.call(c.Request.Context(), http.MethodPost, cfg.authURL(cfg.AuthPaths.Logout), body, cl.forwarded(c, "application/json"))
		if err != nil {
			cl.fail(c, err)
			return
		}
		if a.status != http.StatusOK {
			if err := passOn(c, a); err != nil {
				cl.fail(c, err)
			}
			return
		}
		cl.revokedHere(claims)
	}
	if clear {
		cl.auth.ClearCookies(c)
	}
	if a != nil && json.Valid(a.body) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", a.body)
		return
	}
	c.JSON(http.StatusOK, ginjwt.ResultBody{Result: ginjwt.ResultLoggedOut, Message: "logged out"})
}

// sessions proxies the sessions endpoints (GET and DELETE {Prefix}/sessions,
// DELETE {Prefix}/sessions/:id) for the caller authenticated here.
func (cl *Client) sessions(c *gin.Context) {
	if claims, ok := ginjwt.ClaimsFrom(c); !ok {
		ginjwt.RequireLogin()(c)
		return
	} else if claims.External() {
		// Its sessions are not the auth service's to list or revoke.
		ginjwt.AbortWithError(c, ginjwt.ErrTokenTypeInvalid)
		return
	}
	token, err := cl.auth.AccessTokenFrom(c)
	if err != nil {
		ginjwt.AbortWithError(c, err)
		return
	}
	cfg := &cl.cfg
	path := cfg.AuthPaths.Sessions
	if id := c.Param("id"); id != "" {
		path += "/" + urlPathEscape(id)
	}
	target := cfg.authURL(path)
	if q := c.Request.URL.Query().Get("keep"); q != "" {
		target += "?keep=" + urlQueryEscape(q)
	}
	h := cl.forwarded(c, "")
	h.Set("Authorization", "Bearer "+token)
	a, err := cl.call(c.Request.Context(), c.Request.Method, target, nil, h)
	if err != nil {
		cl.fail(c, err)
		return
	}
	cl.passResource(c, a)
}

// fail answers a request the auth service could not serve: 502, 503 or
// 504 remote_unavailable, logged here with the cause (the client sees only
// the code). Errors of this service's own (its database) are answered as
// ginjwt answers them.
func (cl *Client) fail(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil {
		c.Abort() // the client went away
		return
	}
	cl.log.WarnContext(c.Request.Context(), "ginjwt remote: request to the auth service failed", "path", c.FullPath(), "error", err)
	ginjwt.AbortWithError(c, err)
}

// withoutBody is h for endpoints that take no body (the sessions'): one
// is refused (413), and none is read.
func withoutBody(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > 0 {
			ginjwt.AbortWithError(c, ginjwt.ErrBodyTooLarge)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 0)
		h(c)
	}
}
