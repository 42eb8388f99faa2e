package ginjwt

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// accessToken returns the access token a request presents in its
// Authorization header, "" when it presents none. An Authorization header
// with another scheme is not ginjwt's and counts as none.
func (a *Auth) accessToken(c *gin.Context) (string, error) {
	token, _, err := trimBearer(c.GetHeader("Authorization"), a.cfg.AuthScheme)
	return token, err
}

// refreshField is the body field that carries a refresh token (or, with
// Config.Sliding, the sliding token) to the refresh endpoints.
func (a *Auth) refreshField() string {
	if a.cfg.Sliding {
		return "token"
	}
	return "refresh"
}

// refreshToken returns the refresh token a request presents to the refresh,
// update or logout endpoint: in the body ({"refresh": …}), or else in the
// Authorization header. Both at once is a bad request: the server does not
// pick one for the client.
func (a *Auth) refreshToken(c *gin.Context) (string, error) {
	f, err := bodyFields(c, a.refreshField())
	if err != nil {
		return "", err
	}
	header, ours, err := trimBearer(c.GetHeader("Authorization"), a.cfg.AuthScheme)
	if err != nil {
		return "", err
	}
	body := f[a.refreshField()]
	switch {
	case body != "" && ours:
		return "", withDetail(ErrBadRequest, "send the token in the body or in the Authorization header, not both")
	case body != "":
		return body, nil
	case ours:
		return header, nil
	}
	return "", ErrTokenMissing
}

// pairBody is the JSON answer of a login or refresh in JSON mode.
type pairBody struct {
	Access  string `json:"access,omitempty"`
	Refresh string `json:"refresh,omitempty"`
	Token   string `json:"token,omitempty"` // sliding
}

// writePair answers a login or refresh with the tokens issued.
func (a *Auth) writePair(c *gin.Context, p *Pair) {
	if a.cfg.Sliding {
		c.JSON(http.StatusOK, pairBody{Token: p.Access})
		return
	}
	c.JSON(http.StatusOK, pairBody{Access: p.Access, Refresh: p.Refresh})
}
