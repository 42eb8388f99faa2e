package ginjwt

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestAccessorsAndOptionalAuth(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	u := h.user("alice", "perm1")
	var seen struct {
		claimsOK, ctxOK, userOK bool
		user                    string
		authErr                 error
	}
	h.engine.GET("/maybe", func(c *gin.Context) {
		_, seen.claimsOK = ClaimsFrom(c)
		_, seen.ctxOK = ClaimsFromContext(c.Request.Context())
		got, ok := UserFrom(c)
		seen.userOK = ok
		if ok {
			seen.user = got.Username
			again, _ := UserFrom(c)
			if again != got {
				t.Error("UserFrom loaded the user twice in one request")
			}
		}
		seen.authErr = AuthError(c)
		c.Status(http.StatusNoContent)
	})

	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/maybe", bearer: p.Access}), 204)
	if !seen.claimsOK || !seen.ctxOK || !seen.userOK || seen.user != "alice" || seen.authErr != nil {
		t.Fatalf("authenticated: %+v", seen)
	}
	wantStatus(t, h.do(req{path: "/maybe"}), 204)
	if seen.claimsOK || seen.ctxOK || seen.userOK || !errors.Is(seen.authErr, ErrTokenMissing) {
		t.Fatalf("anonymous: %+v", seen)
	}
	wantStatus(t, h.do(req{path: "/maybe", bearer: p.Refresh}), 204)
	if seen.claimsOK || !errors.Is(seen.authErr, ErrTokenTypeInvalid) {
		t.Fatalf("refresh token: %+v", seen)
	}

	// A user deleted after login: the token still authenticates (it is
	// stateless) but the user is gone.
	if err := h.db.Exec("DELETE FROM ginjwt_users WHERE id = ?", u.ID).Error; err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.do(req{path: "/maybe", bearer: p.Access}), 204)
	if !seen.claimsOK || seen.userOK {
		t.Fatalf("deleted user: %+v", seen)
	}
	wantError(t, h.do(req{path: "/auth/users/me", bearer: p.Access}), 404, "not_found")
}

func TestWWWAuthenticate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	if got := h.do(req{path: "/api/hello"}).Header().Get("WWW-Authenticate"); got != "Bearer" {
		t.Fatalf("missing token: WWW-Authenticate %q", got)
	}
	if got := h.do(req{path: "/api/hello", bearer: "x"}).Header().Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Fatalf("bad token: WWW-Authenticate %q", got)
	}
}

func TestLoginAndLogoutHelpers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	u := h.user("alice")
	var events []EventKind
	h.auth.Subscribe(AnyEvent, func(_ context.Context, e Event) { events = append(events, e.Kind) })
	h.engine.POST("/my-login", func(c *gin.Context) {
		pair, err := h.auth.Login(c, u)
		if err != nil {
			AbortWithError(c, err)
			return
		}
		c.JSON(200, pairBody{Access: pair.Access, Refresh: pair.Refresh})
	})
	h.engine.POST("/my-logout", func(c *gin.Context) {
		if err := h.auth.Logout(c); err != nil {
			AbortWithError(c, err)
			return
		}
		c.Status(204)
	})
	w := h.do(req{method: "POST", path: "/my-login"})
	wantStatus(t, w, 200)
	var p pairBody
	decode(t, w, &p)
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	// Logout by the access token of the session, as a browser-less client would.
	wantStatus(t, h.do(req{method: "POST", path: "/my-logout", bearer: p.Access}), 204)
	wantError(t, h.do(req{method: "POST", path: "/my-logout"}), 400, "bad_request")
	want := []EventKind{TokenObtained, LoggedIn, SessionRevoked, LoggedOut}
	if !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}

	c, _ := gin.CreateTestContext(nil)
	c.Request, _ = http.NewRequest("POST", "/", nil)
	u.IsActive = false
	if _, err := h.auth.Login(c, u); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login of an inactive user: %v", err)
	}
}
