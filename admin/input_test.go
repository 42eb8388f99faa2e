package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/admin"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/users"
)

// TestEscaping: user names, e-mails and User-Agents are shown as text.
func TestEscaping(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		s.user("root", staff)
		const evil = `<script>alert("x")</script>`
		const evilUA = `Mozilla/5.0 <script>alert('ua')</script> <img src=x onerror=alert(1)>`
		mallory := s.user(evil, func(u *users.User) { u.Email = "a<b>@example.com" })
		rp := s.login("root", "ua", "192.0.2.1")
		mp := s.login(evil, evilUA, "192.0.2.66")
		sid := sessionOf(t, s, mp.Access)
		w := s.get("/auth/admin/devices", rp.Access)
		m := deviceLink.FindAllStringSubmatch(w.Body.String(), -1)
		pages := []string{
			"/auth/admin/users",
			"/auth/admin/users?q=" + url.QueryEscape("<script>"),
			"/auth/admin/users/" + mallory.ID,
			"/auth/admin/sessions/" + sid,
			"/auth/admin/devices",
			"/auth/admin/audit?subject=" + url.QueryEscape("<script>"),
		}
		for _, d := range m {
			pages = append(pages, "/auth/admin/devices/"+d[1])
		}
		for _, p := range pages {
			w := s.get(p, rp.Access)
			isHTML(t, w, http.StatusOK)
			body := w.Body.String()
			if strings.Contains(body, "<script") || strings.Contains(body, "<img") || strings.Contains(body, "a<b>@") {
				t.Fatalf("%s renders hostile markup:\n%s", p, body)
			}
		}
		contains(t, s.get("/auth/admin/users", rp.Access), "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
		contains(t, s.get("/auth/admin/devices", rp.Access), "&lt;script&gt;alert(&#39;ua&#39;)&lt;/script&gt;")
		contains(t, s.get("/auth/admin/sessions/"+sid, rp.Access), "&lt;script&gt;alert(&#39;ua&#39;)&lt;/script&gt;", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	})
}

// TestBadInput: malformed ids, page numbers and fields get a 400 page,
// unknown ones a 404 page, large bodies a 413 page: never a 500.
func TestBadInput(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		s.user("root", staff)
		alice := s.user("alice", nil)
		rp := s.login("root", "ua", "192.0.2.1")
		token := s.csrf(rp.Access)
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/auth/admin/users?page=0", 400},
			{"/auth/admin/users?page=-1", 400},
			{"/auth/admin/users?page=abc", 400},
			{"/auth/admin/users?page=99999999999999999999999", 400},
			{fmt.Sprintf("/auth/admin/users?page=%d", admin.MaxPage+1), 400},
			{"/auth/admin/users?page=2", 404},
			{fmt.Sprintf("/auth/admin/users?page=%d", admin.MaxPage), 404},
			{"/auth/admin/users?q=" + strings.Repeat("q", 255), 400},
			{"/auth/admin/users?q=%00", 400},
			{"/auth/admin/users?q=%ff", 400},
			{"/auth/admin/users/no-such-user", 404},
			{"/auth/admin/users/" + strings.Repeat("u", 65), 400},
			{"/auth/admin/users/%01", 400},
			{"/auth/admin/users/" + alice.ID + "?page=2", 404},
			{"/auth/admin/users/" + alice.ID + "?page=x", 400},
			{"/auth/admin/sessions/no-such-session", 404},
			{"/auth/admin/sessions/" + strings.Repeat("s", 65), 400},
			{"/auth/admin/devices/abc", 400},
			{"/auth/admin/devices/0", 400},
			{"/auth/admin/devices/-5", 400},
			{"/auth/admin/devices/99999999999999999999", 400},
			{"/auth/admin/devices/999999", 404},
			{"/auth/admin/networks/x", 400},
			{"/auth/admin/networks/999999", 404},
			{"/auth/admin/devices?page=3", 404},
			{"/auth/admin/audit?before=x", 400},
			{"/auth/admin/audit?before=0", 400},
			{"/auth/admin/audit?subject=" + strings.Repeat("s", 65), 400},
			{"/auth/admin/users/" + alice.ID + "/deactivate", 405},
			{"/auth/admin/sessions/x/revoke", 405},
		} {
			w := s.get(tc.path, rp.Access)
			if w.Code != tc.want || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %q, want %d HTML", tc.path, w.Code, w.Header().Get("Content-Type"), tc.want)
			}
		}
		posts := []struct {
			path string
			form url.Values
			want int
		}{
			{"/auth/admin/users/no-such-user/deactivate", url.Values{"confirm": {"yes"}}, 404},
			{"/auth/admin/users/" + strings.Repeat("u", 65) + "/deactivate", url.Values{"confirm": {"yes"}}, 400},
			{"/auth/admin/housekeeping/archive", url.Values{"confirm": {"yes"}, "days": {"x"}}, 400},
			{"/auth/admin/housekeeping/archive", url.Values{"confirm": {"yes"}, "days": {"-1"}}, 400},
			{"/auth/admin/housekeeping/archive", url.Values{"confirm": {"yes"}, "days": {"3651"}}, 400},
			{"/auth/admin/users/new", url.Values{"confirm": {"yes"}, "username": {strings.Repeat("x", 4000)}, "password": {"long-enough-pw"}}, 400},
		}
		for _, tc := range posts {
			tc.form.Set("csrf_token", token)
			w := s.post(tc.path, rp.Access, tc.form)
			if w.Code != tc.want || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Errorf("POST %s: %d %q, want %d HTML", tc.path, w.Code, w.Header().Get("Content-Type"), tc.want)
			}
		}
		// Bodies over the limit, declared or not; a body of another type.
		big := url.Values{"csrf_token": {token}, "confirm": {"yes"}, "username": {strings.Repeat("x", admin.DefaultMaxBodyBytes)}, "password": {"long-enough-pw"}}
		w := s.post("/auth/admin/users/new", rp.Access, big)
		isHTML(t, w, http.StatusRequestEntityTooLarge)
		r := httptest.NewRequest(http.MethodPost, "/auth/admin/users/new", strings.NewReader(big.Encode()))
		r.ContentLength = -1
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "Bearer "+rp.Access)
		w = httptest.NewRecorder()
		s.engine.ServeHTTP(w, r)
		isHTML(t, w, http.StatusRequestEntityTooLarge)
		r = httptest.NewRequest(http.MethodPost, "/auth/admin/users/new", strings.NewReader(`{"username":"x"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+rp.Access)
		w = httptest.NewRecorder()
		s.engine.ServeHTTP(w, r)
		isHTML(t, w, http.StatusBadRequest)
		if n, _ := s.store.Count(context.Background(), users.Filter{}); n != 2 {
			t.Fatalf("%d users after refused creations, want 2", n)
		}
	})
}

// seedSession records a session of userID with n tokens: a chain of
// refresh tokens, each the parent of access tokens, in batches.
func seedSession(t testing.TB, s *site, userID, sid string, n, perRefresh int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var pairs []pipeline.Pair
	var parent *pipeline.Token
	for i := 0; i < n; i++ {
		tk := pipeline.Token{ID: fmt.Sprintf("%s-%d", sid, i), Type: "access", SessionID: sid, UserID: userID,
			IssuedAt: now.Add(time.Duration(i) * time.Millisecond), ExpiresAt: now.Add(time.Hour)}
		if i%perRefresh == 0 {
			tk.Type, tk.ExpiresAt = "refresh", now.Add(24*time.Hour)
			if i == 0 {
				tk.ID = sid
			}
		}
		pairs = append(pairs, pipeline.Pair{Child: tk, Parent: parent})
		if tk.Type == "refresh" {
			p := tk
			parent = &p
		}
		if len(pairs) == 500 || i == n-1 {
			e := &pipeline.Event{Kind: pipeline.Obtained, UserID: userID, Time: now, Pairs: pairs, UserAgent: firefoxUA, ClientIP: "192.0.2.77"}
			if err := s.auth.Registry().RegisterPairs(ctx, e); err != nil {
				t.Fatal(err)
			}
			if err := s.auth.Registry().ConnectUser(ctx, e); err != nil {
				t.Fatal(err)
			}
			if err := s.auth.Devices().ConnectInterlocutor(ctx, e); err != nil {
				t.Fatal(err)
			}
			pairs = nil
		}
	}
}

// TestTreePagination: a session with many tokens is shown a page at a
// time, in tree order.
func TestTreePagination(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, func(c *admin.Config) { c.PageSize = 20 })
		s.user("root", staff)
		alice := s.user("alice", nil)
		rp := s.login("root", "ua", "192.0.2.1")
		seedSession(t, s, alice.ID, "big", 55, 10)
		for page, rows := range map[int]int{1: 20, 2: 20, 3: 15} {
			w := s.get(fmt.Sprintf("/auth/admin/sessions/big?page=%d", page), rp.Access)
			isHTML(t, w, http.StatusOK)
			if got := strings.Count(w.Body.String(), `<tr data-token="`); got != rows {
				t.Errorf("page %d: %d rows, want %d", page, got, rows)
			}
			contains(t, w, fmt.Sprintf("Page %d of 3", page))
		}
		isHTML(t, s.get("/auth/admin/sessions/big?page=4", rp.Access), http.StatusNotFound)
		// The first page opens with the root, then its access tokens.
		w := s.get("/auth/admin/sessions/big", rp.Access)
		body := w.Body.String()
		first := strings.Index(body, `<tr data-token="`)
		if first < 0 || !strings.Contains(body[first:first+200], "depth-0") {
			t.Fatalf("the tree does not open with a refresh token: %s", body)
		}
		contains(t, w, `rel="next"`)
		// The user page is bounded too.
		for i := 0; i < 25; i++ {
			seedSession(t, s, alice.ID, fmt.Sprintf("s%02d", i), 2, 2)
		}
		w = s.get("/auth/admin/users/"+alice.ID, rp.Access)
		if got := strings.Count(w.Body.String(), `<tr data-session="`); got != 20 {
			t.Errorf("user page: %d sessions, want 20", got)
		}
		contains(t, w, "Page 1 of 2", "(26)")
		w = s.get("/auth/admin/users/"+alice.ID+"?page=2", rp.Access)
		if got := strings.Count(w.Body.String(), `<tr data-session="`); got != 6 {
			t.Errorf("user page 2: %d sessions, want 6", got)
		}
	})
}

func TestMountConfig(t *testing.T) {
	db := testdb.SQLite(t)
	s := newSite(t, db, nil)
	for _, cfg := range []admin.Config{
		{Path: "admin", Users: s.store},
		{Path: "/admin/", Users: s.store},
		{Path: "/", Users: s.store},
		{Path: "/a/../b", Users: s.store},
		{Path: "/a/:x", Users: s.store},
		{PageSize: -1, Users: s.store},
		{PageSize: admin.MaxPageSize + 1, Users: s.store},
		{MaxBodyBytes: 10, Users: s.store},
		{Perm: " admin", Users: s.store},
		{Path: "/auth/admin", Users: s.store}, // taken by newSite's Admin: gin refuses
	} {
		if _, err := admin.Mount(s.engine, s.auth, cfg); err == nil {
			t.Errorf("Mount(%+v) succeeded", cfg)
		} else if !strings.HasPrefix(err.Error(), "admin: ") {
			t.Errorf("Mount(%+v): %v", cfg, err)
		}
	}
	if _, err := admin.Mount(s.engine, nil, admin.Config{}); err == nil {
		t.Error("Mount with a nil Auth succeeded")
	}
	if a, err := admin.Mount(s.engine, s.auth, admin.Config{Path: "/ops", Users: s.store}); err != nil || a.Path() != "/ops" {
		t.Errorf("Mount(/ops) = %v, %v", a, err)
	}
}

// TestPerm: with Config.Perm, the permission decides, not staff.
func TestPerm(t *testing.T) {
	s := newSite(t, testdb.SQLite(t), func(c *admin.Config) { c.Path, c.Perm = "/auth/admin", "ops" })
	s.user("root", staff)
	s.user("op", func(u *users.User) { u.Perms = users.Perms{"ops"} })
	isHTML(t, s.get("/auth/admin/users", s.login("root", "ua", "192.0.2.1").Access), http.StatusForbidden)
	isHTML(t, s.get("/auth/admin/users", s.login("op", "ua", "192.0.2.1").Access), http.StatusOK)
}

// TestMountStores: the user store comes from auth by default, must share
// the registry's database, and the registry must be on.
func TestMountStores(t *testing.T) {
	other := users.NewStore(testdb.SQLite(t))
	if _, err := tryNewSite(t, testdb.SQLite(t), func(c *admin.Config) { c.Users = other }); err == nil || !strings.Contains(err.Error(), "Config.Users") {
		t.Fatalf("a store on another database: %v", err)
	}
	if _, err := tryNewSite(t, testdb.SQLite(t), nil, func(c *ginjwt.Config) { c.Registry.Disabled, c.Registry.Devices = true, false }); err == nil || !strings.Contains(err.Error(), "registry") {
		t.Fatalf("without the registry: %v", err)
	}
	// Default: auth's own store (Config.DB's).
	s := newSite(t, testdb.SQLite(t), func(c *admin.Config) { c.Users = nil }, func(c *ginjwt.Config) { c.Users = nil })
	if err := users.NewStore(s.db).Create(context.Background(), func() *users.User { u := users.NewUser("root"); u.IsStaff = true; return u }(), password("root")); err != nil {
		t.Fatal(err)
	}
	isHTML(t, s.get("/auth/admin/users", s.login("root", "ua", "192.0.2.1").Access), http.StatusOK)
}

// TestDevicesOff: without the device registry the pages leave devices
// out, and the device pages say it is off.
func TestDevicesOff(t *testing.T) {
	s := newSite(t, testdb.SQLite(t), nil, func(c *ginjwt.Config) { c.Registry.Devices = false })
	s.user("root", staff)
	alice := s.user("alice", nil)
	rp := s.login("root", "ua", "192.0.2.1")
	s.login("alice", "ua", "192.0.2.1")
	w := s.get("/auth/admin/users/"+alice.ID, rp.Access)
	isHTML(t, w, http.StatusOK)
	contains(t, w, `<tr data-session="`)
	if strings.Contains(w.Body.String(), "<th>Device</th>") {
		t.Fatal("a device column without the device registry")
	}
	isHTML(t, s.get("/auth/admin/sessions/"+firstSession(t, s, alice.ID), rp.Access), http.StatusOK)
	for _, p := range []string{"/auth/admin/devices", "/auth/admin/networks", "/auth/admin/devices/1", "/auth/admin/networks/1"} {
		w := s.get(p, rp.Access)
		isHTML(t, w, http.StatusNotFound)
		contains(t, w, "device registry is off")
	}
}
