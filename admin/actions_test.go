package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// TestCutOffs: log out everywhere, deactivation and a new password each
// refuse every token the user held, at the next API request.
func TestCutOffs(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		root := s.user("root", staff)
		rp := s.login("root", "ua", "192.0.2.1")
		token := s.csrf(rp.Access)
		for _, tc := range []struct {
			name, action string
			form         url.Values
			flash        string
			after        func(t *testing.T, u *users.User)
		}{
			{name: "logout-everywhere", action: "logout-everywhere", flash: "logged-out"},
			{name: "deactivate", action: "deactivate", flash: "deactivated", after: func(t *testing.T, u *users.User) {
				got, _ := s.store.Find(context.Background(), u.ID)
				if got.IsActive {
					t.Fatal("still active")
				}
				w := s.do(http.MethodPost, "/auth/token", "", url.Values{"username": {u.Username}, "password": {password(u.Username)}})
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("a deactivated user logged in: %d", w.Code)
				}
				// Reactivation lets the user log in again.
				w = s.post("/auth/admin/users/"+u.ID+"/activate", rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}})
				isHTML(t, w, http.StatusSeeOther)
				s.login(u.Username, "ua", "192.0.2.9")
			}},
			{name: "password", action: "password", form: url.Values{"password": {"a-brand-new-password"}}, flash: "password-set", after: func(t *testing.T, u *users.User) {
				if _, err := s.store.Authenticate(context.Background(), u.Username, "a-brand-new-password"); err != nil {
					t.Fatalf("the new password does not work: %v", err)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u := s.user("victim-"+tc.name, nil)
				pairs := []pair{s.login(u.Username, "ua-a", "192.0.2.41"), s.login(u.Username, "ua-b", "192.0.2.42")}
				other := s.login("root", "ua", "192.0.2.1")
				path := "/auth/admin/users/" + u.ID + "/" + tc.action
				form := url.Values{"confirm": {"yes"}}
				for k, v := range tc.form {
					form[k] = v
				}
				// CSRF missing or wrong: nothing changes.
				isHTML(t, s.post(path, rp.Access, form), http.StatusForbidden)
				form.Set("csrf_token", "wrong")
				isHTML(t, s.post(path, rp.Access, form), http.StatusForbidden)
				// No confirmation: the confirm page; nothing changes.
				unconfirmed := url.Values{"csrf_token": {token}}
				for k, v := range tc.form {
					unconfirmed[k] = v
				}
				w := s.post(path, rp.Access, unconfirmed)
				isHTML(t, w, http.StatusOK)
				contains(t, w, `id="confirm-form"`)
				if strings.Contains(w.Body.String(), "a-brand-new-password") {
					t.Fatal("the confirm page echoes the password")
				}
				for _, p := range pairs {
					if s.apiStatus(p.Access) != http.StatusOK {
						t.Fatal("a refused action cut the user off")
					}
				}
				form.Set("csrf_token", token)
				w = s.post(path, rp.Access, form)
				isHTML(t, w, http.StatusSeeOther)
				if loc := w.Header().Get("Location"); loc != "/auth/admin/users/"+u.ID+"?done="+tc.flash {
					t.Fatalf("Location %q", loc)
				}
				for i, p := range pairs {
					if got := s.apiStatus(p.Access); got != http.StatusUnauthorized {
						t.Errorf("session %d: API answered %d after %s, want 401", i, got, tc.name)
					}
					if got := s.refreshStatus(p.Refresh); got != http.StatusUnauthorized {
						t.Errorf("session %d: refresh answered %d after %s, want 401", i, got, tc.name)
					}
				}
				if s.apiStatus(other.Access) != http.StatusOK {
					t.Error("another user's session was cut off")
				}
				// The cut-off is in the audit trail, with its actor.
				log, err := s.auth.Registry().RevocationLog(context.Background(), registry.LogQuery{Subject: u.ID})
				if err != nil || len(log) != 1 || log[0].Kind != registry.KindUser || log[0].ActorID == nil || *log[0].ActorID != root.ID {
					t.Fatalf("log = %+v, %v", log, err)
				}
				if tc.after != nil {
					tc.after(t, u)
				}
			})
		}
		// A bad new password is a 400 page, nothing changed.
		u := s.user("weak", nil)
		p := s.login("weak", "ua", "192.0.2.1")
		w := s.post("/auth/admin/users/"+u.ID+"/password", rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}, "password": {""}})
		isHTML(t, w, http.StatusBadRequest)
		w = s.post("/auth/admin/users/"+u.ID+"/password", rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}, "password": {strings.Repeat("p", users.MaxPasswordLen+1)}})
		isHTML(t, w, http.StatusBadRequest)
		if s.apiStatus(p.Access) != http.StatusOK {
			t.Fatal("a refused password change cut the user off")
		}
		// Staff cannot deactivate themselves, nor change a superuser.
		isHTML(t, s.post("/auth/admin/users/"+root.ID+"/deactivate", rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}}), http.StatusBadRequest)
		boss := s.user("boss", func(u *users.User) { u.IsSuperuser = true })
		bp := s.login("boss", "ua", "192.0.2.1")
		for _, action := range []string{"deactivate", "logout-everywhere", "password"} {
			w := s.post("/auth/admin/users/"+boss.ID+"/"+action, rp.Access, url.Values{"csrf_token": {token}, "confirm": {"yes"}, "password": {"another-password"}})
			isHTML(t, w, http.StatusForbidden)
		}
		if s.apiStatus(bp.Access) != http.StatusOK {
			t.Fatal("staff cut a superuser off")
		}
	})
}

func TestCreateUser(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		s.user("root", staff)
		s.user("boss", func(u *users.User) { u.IsSuperuser = true })
		rp := s.login("root", "ua", "192.0.2.1")
		bp := s.login("boss", "ua", "192.0.2.1")
		token := s.csrf(rp.Access)
		form := func(username, email string, extra ...string) url.Values {
			v := url.Values{"csrf_token": {token}, "username": {username}, "email": {email}, "password": {"a-good-password"}, "confirm": {"yes"}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return v
		}
		w := s.post("/auth/admin/users/new", rp.Access, form("carol", "Carol@Example.com"))
		isHTML(t, w, http.StatusSeeOther)
		u, err := s.store.FindByUsername(context.Background(), "carol")
		if err != nil || !u.IsActive || u.IsStaff || u.Email != "carol@example.com" {
			t.Fatalf("created %+v, %v", u, err)
		}
		if loc := w.Header().Get("Location"); loc != "/auth/admin/users/"+u.ID+"?done=created" {
			t.Fatalf("Location %q", loc)
		}
		if _, err := s.store.Authenticate(context.Background(), "carol", "a-good-password"); err != nil {
			t.Fatalf("carol cannot log in: %v", err)
		}
		// Taken username: 409 with the form again.
		w = s.post("/auth/admin/users/new", rp.Access, form("carol", ""))
		isHTML(t, w, http.StatusConflict)
		contains(t, w, "already taken", `id="create-user"`)
		// Bad fields: 400 with the form.
		for _, f := range []url.Values{
			form("", ""),
			form(" padded", ""),
			form("dave", "not-an-email"),
			form("dave", "", "password", ""),
			form(strings.Repeat("d", 2000), ""),
		} {
			isHTML(t, s.post("/auth/admin/users/new", rp.Access, f), http.StatusBadRequest)
		}
		// Without the confirmation: the form again, nobody created.
		f := form("erin", "")
		f.Del("confirm")
		isHTML(t, s.post("/auth/admin/users/new", rp.Access, f), http.StatusBadRequest)
		// Only a superuser creates staff.
		isHTML(t, s.post("/auth/admin/users/new", rp.Access, form("frank", "", "staff", "yes")), http.StatusForbidden)
		w = s.post("/auth/admin/users/new", bp.Access, form("frank", "", "staff", "yes", "csrf_token", s.csrf(bp.Access)))
		isHTML(t, w, http.StatusSeeOther)
		for name, want := range map[string]bool{"erin": false, "dave": false, "frank": true} {
			_, err := s.store.FindByUsername(context.Background(), name)
			if (err == nil) != want {
				t.Errorf("%s exists: %v, want %v", name, err == nil, want)
			}
		}
		if u, _ := s.store.FindByUsername(context.Background(), "frank"); u == nil || !u.IsStaff {
			t.Error("frank is not staff")
		}
		// CSRF missing: nobody created.
		f = form("gina", "")
		f.Del("csrf_token")
		isHTML(t, s.post("/auth/admin/users/new", rp.Access, f), http.StatusForbidden)
		if _, err := s.store.FindByUsername(context.Background(), "gina"); err == nil {
			t.Error("created without the CSRF token")
		}
	})
}
