package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// maxSearch bounds the users search string (an e-mail is at most 254).
const maxSearch = 254

type usersData struct {
	Query string
	Users []users.User
	Pager pager
}

// usersPage is GET /users?q=&page=: the users whose username or e-mail
// contains q, by username.
func (a *Admin) usersPage(c *gin.Context) {
	q := c.Query("q")
	if !textParam(q, maxSearch) {
		a.badRequest(c, "The search must be at most 254 characters of text.")
		return
	}
	n, ok := a.pageParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	f := users.Filter{Match: q}
	total, err := a.users.Count(ctx, f)
	if err != nil {
		a.serverError(c, err)
		return
	}
	query := url.Values{}
	if q != "" {
		query.Set("q", q)
	}
	p, ok := a.paginate(c, n, total, func(n int) string { return a.withPage("/users", query, n) })
	if !ok {
		return
	}
	list, err := a.users.Search(ctx, f, a.cfg.PageSize, a.offset(n))
	if err != nil {
		a.serverError(c, err)
		return
	}
	a.render(c, http.StatusOK, "users", "Users", "users", usersData{Query: q, Users: list, Pager: p})
}

type newUserData struct {
	Username, Email string
	Staff           bool
	MayGrantStaff   bool
	Error           string
}

// newUserPage is GET /users/new: the form.
func (a *Admin) newUserPage(c *gin.Context) {
	a.render(c, http.StatusOK, "user_new", "New user", "users", newUserData{MayGrantStaff: visitorOf(c).user.IsSuperuser})
}

// createUser is POST /users/new. Only a superuser may create staff.
func (a *Admin) createUser(c *gin.Context) {
	f := c.Request.PostForm
	d := newUserData{Username: f.Get("username"), Email: f.Get("email"), Staff: f.Get("staff") == "yes",
		MayGrantStaff: visitorOf(c).user.IsSuperuser}
	password := f.Get("password")
	if !textParam(d.Username, users.MaxUsernameLen*4) || !textParam(d.Email, 254) || len(password) > users.MaxPasswordLen {
		d.Username, d.Email = "", ""
		d.Error = "A field is too long or holds control characters."
		a.render(c, http.StatusBadRequest, "user_new", "New user", "users", d)
		return
	}
	if d.Staff && !d.MayGrantStaff {
		a.fail(c, http.StatusForbidden, "Forbidden", "Only a superuser may create staff users.")
		return
	}
	if f.Get("confirm") != "yes" {
		d.Error = "Tick the confirmation box to create the user."
		a.render(c, http.StatusBadRequest, "user_new", "New user", "users", d)
		return
	}
	u := users.NewUser(d.Username)
	u.Email, u.IsStaff = d.Email, d.Staff
	err := a.users.Create(c.Request.Context(), u, password)
	var ve *users.ValidationError
	switch {
	case errors.Is(err, users.ErrDuplicate):
		d.Error = "That username or e-mail is already taken."
		a.render(c, http.StatusConflict, "user_new", "New user", "users", d)
		return
	case errors.As(err, &ve):
		d.Error = "The " + ve.Field + " " + ve.Reason + "."
		a.render(c, http.StatusBadRequest, "user_new", "New user", "users", d)
		return
	case err != nil:
		a.serverError(c, err)
		return
	}
	a.redirect(c, "/users/"+url.PathEscape(u.ID), "created")
}

// sessionRow is one session on the user page.
type sessionRow struct {
	registry.Session
	Device string
	IP     string
}

type userData struct {
	User     *users.User
	Counts   registry.TokenCounts
	Sessions []sessionRow
	Pager    pager
	Devices  bool // the device registry is on
	Self     bool // the visitor's own account
	MayAct   bool // the visitor may change this account
}

// userPage is GET /users/:id: the account, its token counts and its active
// sessions, a page at a time.
func (a *Admin) userPage(c *gin.Context) {
	u, ok := a.loadUser(c)
	if !ok {
		return
	}
	n, ok := a.pageParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	list, total, err := a.reg.SessionsPage(ctx, u.ID, a.cfg.PageSize, a.offset(n))
	if err != nil {
		a.serverError(c, err)
		return
	}
	p, ok := a.paginate(c, n, total, func(n int) string { return a.withPage("/users/"+url.PathEscape(u.ID), nil, n) })
	if !ok {
		return
	}
	counts, err := a.reg.UserTokenCounts(ctx, u.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	rows := make([]sessionRow, len(list))
	sids := make([]string, len(list))
	for i, s := range list {
		rows[i].Session, sids[i] = s, s.ID
	}
	if a.devices != nil {
		devs, err := a.devices.SessionDevices(ctx, sids)
		if err != nil {
			a.serverError(c, err)
			return
		}
		for i := range rows {
			d := devs[rows[i].ID]
			rows[i].Device, rows[i].IP = d.Label, d.IP
		}
	}
	vis := visitorOf(c)
	a.render(c, http.StatusOK, "user", "User "+u.Username, "users", userData{User: u, Counts: counts, Sessions: rows, Pager: p,
		Devices: a.devices != nil, Self: vis.user.ID == u.ID, MayAct: a.mayAct(c, u)})
}

// loadUser reads the user of the :id path parameter, answering 400 or 404.
func (a *Admin) loadUser(c *gin.Context) (*users.User, bool) {
	id, ok := a.idParam(c, "id")
	if !ok {
		return nil, false
	}
	u, err := a.users.Find(c.Request.Context(), id)
	if errors.Is(err, users.ErrNotFound) {
		a.notFound(c, "user")
		return nil, false
	}
	if err != nil {
		a.serverError(c, err)
		return nil, false
	}
	return u, true
}

// mayNotAct is the answer to a visitor who may not change an account.
const mayNotAct = "Only a superuser may change this account (a superuser's, another staff member's, or one holding permissions you do not hold)."

// mayAct reports whether the visitor may change u (a new password set
// here logs its setter in as the account): a superuser may change any
// account; anyone else their own, or one that is neither a superuser nor
// staff — and, when Config.Perm delegates the pages to the holders of a
// permission, one holding no permission the visitor lacks.
func (a *Admin) mayAct(c *gin.Context, u *users.User) bool {
	v := visitorOf(c).user
	switch {
	case v.IsSuperuser || u.ID == v.ID:
		return true
	case u.IsSuperuser || u.IsStaff:
		return false
	case a.cfg.Perm != "":
		for _, p := range u.Perms {
			if !slices.Contains(v.Perms, p) {
				return false
			}
		}
	}
	return true
}

// actOn loads the user of an action, checks the visitor may act on it, and
// asks for confirmation when the form did not carry it.
func (a *Admin) actOn(c *gin.Context, what string, fields ...field) (*users.User, bool) {
	u, ok := a.loadUser(c)
	if !ok {
		return nil, false
	}
	if !a.mayAct(c, u) {
		a.fail(c, http.StatusForbidden, "Forbidden", mayNotAct)
		return nil, false
	}
	if !a.confirmed(c, confirmData{Question: what + " " + u.Username + "?", Fields: fields}) {
		return nil, false
	}
	return u, true
}

// field is a form field a confirm page carries again.
type field struct {
	Name, Value, Label string
	Password           bool
}

type confirmData struct {
	Question string
	Action   string
	Fields   []field
}

// confirmed reports whether the form carries confirm=yes; otherwise it
// answers the confirm page, which posts the same form again with it.
func (a *Admin) confirmed(c *gin.Context, d confirmData) bool {
	if c.Request.PostForm.Get("confirm") == "yes" {
		return true
	}
	d.Action = c.Request.URL.Path
	a.render(c, http.StatusOK, "confirm", "Confirm", "", d)
	c.Abort()
	return false
}

// logoutEverywhere is POST /users/:id/logout-everywhere: every session of
// the user is revoked (a cut-off).
func (a *Admin) logoutEverywhere(c *gin.Context) {
	u, ok := a.actOn(c, "Log out everywhere")
	if !ok {
		return
	}
	if err := a.auth.LogoutEverywhere(a.actorContext(c), u.ID); err != nil {
		a.serverError(c, err)
		return
	}
	a.redirect(c, "/users/"+url.PathEscape(u.ID), "logged-out")
}

// deactivate is POST /users/:id/deactivate: the account can no longer log
// in, and its tokens are cut off in the same transaction.
func (a *Admin) deactivate(c *gin.Context) {
	if c.Param("id") == visitorOf(c).user.ID {
		a.badRequest(c, "You cannot deactivate your own account here.")
		return
	}
	u, ok := a.actOn(c, "Deactivate")
	if !ok {
		return
	}
	if err := a.users.SetActive(a.actorContext(c), u.ID, false); err != nil {
		a.serverError(c, err)
		return
	}
	a.redirect(c, "/users/"+url.PathEscape(u.ID), "deactivated")
}

// activate is POST /users/:id/activate.
func (a *Admin) activate(c *gin.Context) {
	u, ok := a.actOn(c, "Reactivate")
	if !ok {
		return
	}
	if err := a.users.SetActive(a.actorContext(c), u.ID, true); err != nil {
		a.serverError(c, err)
		return
	}
	a.redirect(c, "/users/"+url.PathEscape(u.ID), "activated")
}

// setPassword is POST /users/:id/password: the new password, and a cut-off
// of every token in the same transaction.
func (a *Admin) setPassword(c *gin.Context) {
	if c.Param("id") == visitorOf(c).user.ID {
		// Without the current password: a borrowed session must not
		// become the account for good.
		a.badRequest(c, "You cannot set your own password here.")
		return
	}
	password := c.Request.PostForm.Get("password")
	if len(password) > users.MaxPasswordLen {
		a.badRequest(c, "The password is too long.")
		return
	}
	u, ok := a.actOn(c, "Set the password of", field{Name: "password", Label: "New password", Password: true})
	if !ok {
		return
	}
	err := a.users.SetPassword(a.actorContext(c), u.ID, password)
	var ve *users.ValidationError
	switch {
	case errors.As(err, &ve):
		a.badRequest(c, "The new password "+ve.Reason+".")
		return
	case err != nil:
		a.serverError(c, err)
		return
	}
	a.redirect(c, "/users/"+url.PathEscape(u.ID), "password-set")
}

// sessionDevice returns the device of one session, zero when unknown or
// the device registry is off.
func (a *Admin) sessionDevice(c *gin.Context, sid string) (device.SessionDevice, error) {
	if a.devices == nil {
		return device.SessionDevice{}, nil
	}
	devs, err := a.devices.SessionDevices(c.Request.Context(), []string{sid})
	return devs[sid], err
}
