package remote

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// sessionIssuer is the client service's ginjwt.SessionIssuer: its cookie
// sessions are opened, renewed and ended at the auth service, through the
// endpoints the proxies use.
type sessionIssuer struct{ cl *Client }

// Obtain logs in at the auth service and writes the user's local copy. A
// copy that cannot be written ends the session just opened there.
func (s sessionIssuer) Obtain(c *gin.Context, login, password string) (access, refresh string, err error) {
	p, err := s.post(c, s.cl.cfg.AuthPaths.Obtain, map[string]string{"username": login, "password": password}, true)
	if err != nil {
		return "", "", err
	}
	claims, err := s.cl.auth.ParseToken(p.Access, ginjwt.AccessToken)
	if err != nil {
		return "", "", badAnswer(err)
	}
	if err := s.cl.users.sync(c.Request.Context(), claims.UserID); err != nil {
		if lerr := s.Logout(c, p.Refresh); lerr != nil {
			s.cl.log.ErrorContext(c.Request.Context(), "remote: ending a session whose user could not be copied", "error", lerr)
		}
		return "", "", err
	}
	return p.Access, p.Refresh, nil
}

// Refresh renews the session at the auth service: a new access token, and
// a new refresh token when the auth service rotates them.
func (s sessionIssuer) Refresh(c *gin.Context, refresh string) (access, newRefresh string, err error) {
	p, err := s.post(c, s.cl.cfg.AuthPaths.Refresh, map[string]string{"refresh": refresh}, false)
	if err != nil {
		return "", "", err
	}
	return p.Access, p.Refresh, nil
}

// Logout ends the session at the auth service, and here at once.
func (s sessionIssuer) Logout(c *gin.Context, refresh string) error {
	body, _ := json.Marshal(map[string]string{"refresh": refresh})
	cfg := &s.cl.cfg
	a, err := s.cl.call(c.Request.Context(), http.MethodPost, cfg.authURL(cfg.AuthPaths.Logout), body, s.cl.forwarded(c, "application/json"))
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return refusal(c, a)
	}
	if claims, err := s.cl.auth.ParseToken(refresh); err == nil {
		s.cl.revokedHere(claims)
	}
	return nil
}

// post sends body to the auth service's path and returns the tokens it
// answers: an access token, and a refresh token when withRefresh (a login:
// a session needs one, so an auth service issuing sliding tokens cannot
// back cookie sessions here).
func (s sessionIssuer) post(c *gin.Context, path string, body map[string]string, withRefresh bool) (tokenPair, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return tokenPair{}, err
	}
	cfg := &s.cl.cfg
	a, err := s.cl.call(c.Request.Context(), http.MethodPost, cfg.authURL(path), raw, s.cl.forwarded(c, "application/json"))
	if err != nil {
		return tokenPair{}, err
	}
	if a.status != http.StatusOK {
		return tokenPair{}, refusal(c, a)
	}
	var p tokenPair
	if err := a.decode(&p); err != nil || p.Access == "" || (withRefresh && p.Refresh == "") {
		return tokenPair{}, badAnswer(err)
	}
	return p, nil
}

// refusal is the ginjwt error of the auth service's 4xx answer a (call
// turns the others into errors), its Retry-After passed on; an answer
// without a code ginjwt knows is a bad answer.
func refusal(c *gin.Context, a *answer) error {
	var e errorBody
	_ = json.Unmarshal(a.body, &e)
	sentinel := ginjwt.ErrorOfCode(e.Error)
	if sentinel == nil {
		return fmt.Errorf("%w: status %d", ginjwt.ErrRemoteBadAnswer, a.status)
	}
	if v := a.header.Get("Retry-After"); v != "" {
		c.Header("Retry-After", v)
	}
	return sentinel
}
