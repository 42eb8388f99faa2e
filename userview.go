package ginjwt

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/users"
)

// me is GET /users/me: the caller's own user.
func (a *Auth) me(c *gin.Context) {
	claims := requireOwnLogin(c)
	if claims == nil {
		return
	}
	a.writeUser(c, claims.UserID)
}

// user is GET /users/:id: the caller's own user by ID; anyone else's is
// 403. A client service presenting its service credential (and no user
// token) may read any user: it keeps copies of them.
func (a *Auth) user(c *gin.Context) {
	if authorization(c.Request) == "" && a.service.authorized(c.Request) {
		a.writeUser(c, c.Param("id"))
		return
	}
	claims := requireOwnLogin(c)
	if claims == nil {
		return
	}
	if c.Param("id") != claims.UserID {
		AbortWithError(c, withDetail(ErrPermissionDenied, "you may only read your own user"))
		return
	}
	a.writeUser(c, claims.UserID)
}

// writeUser answers with the user id, as Config.Service.UserView shows it.
func (a *Auth) writeUser(c *gin.Context, id string) {
	if a.users == nil {
		AbortWithError(c, ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	u, err := a.users.Find(ctx, id)
	if errors.Is(err, users.ErrNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		AbortWithError(c, err)
		return
	}
	var view any = userViewOf(u)
	if hook := a.cfg.Service.UserView; hook != nil {
		if view, err = hook(ctx, u); err != nil {
			AbortWithError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, view)
}
