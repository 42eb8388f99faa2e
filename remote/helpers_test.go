package remote_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/remote"
	"github.com/ginjwt/ginjwt/users"
)

func init() { gin.SetMode(gin.TestMode) }

const credential = "client-service-credential-0123456789abcdef"

// AccessGroup is the extra data of the tests, as in examples/microservices:
// which services a user may use. Both services have the table.
type AccessGroup struct {
	UserID string `gorm:"column:user_id;primaryKey;size:64"`
	Group  string `gorm:"column:group_name;size:64;not null"`
}

func (AccessGroup) TableName() string { return "access_groups" }

// authService is a real ginjwt auth service on a loopback port.
type authService struct {
	t      testing.TB
	db     *gorm.DB
	store  *users.Store
	auth   *ginjwt.Auth
	engine *gin.Engine
	srv    *httptest.Server
	// fault, when set, answers instead of the auth service.
	fault atomic.Pointer[gin.HandlerFunc]
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newAuthService(t testing.TB, tls bool, edit func(*ginjwt.Config)) *authService {
	t.Helper()
	ctx := context.Background()
	db := testdb.SQLite(t)
	if err := ginjwt.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&AccessGroup{}); err != nil {
		t.Fatal(err)
	}
	key, err := ginjwt.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	as := &authService{t: t, db: db}
	as.store = users.NewStore(db, users.WithHasher(users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)))
	cfg := ginjwt.Config{
		Keys: []ginjwt.Key{key}, DB: db, Users: as.store, Logger: quietLogger(),
		Service: ginjwt.Service{
			Credentials: []string{credential},
			UserView: func(ctx context.Context, u *users.User) (any, error) {
				var g AccessGroup
				if err := db.WithContext(ctx).Where("user_id = ?", u.ID).Limit(1).Find(&g).Error; err != nil {
					return nil, err
				}
				return struct {
					*users.User
					AccessGroup string `json:"access_group"`
				}{u, g.Group}, nil
			},
		},
	}
	cfg.Registry.Resync = 100 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	as.engine = gin.New()
	if as.auth, err = ginjwt.Mount(as.engine, cfg); err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := as.fault.Load(); f != nil {
			c, _ := gin.CreateTestContext(w)
			c.Request = r
			(*f)(c)
			if c.IsAborted() || c.Writer.Written() || c.Writer.Status() != http.StatusOK {
				c.Writer.WriteHeaderNow()
				return
			}
		}
		as.engine.ServeHTTP(w, r)
	})
	if tls {
		as.srv = httptest.NewTLSServer(h)
	} else {
		as.srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		as.srv.Close()
		_ = as.auth.Close(context.Background())
	})
	return as
}

// user creates an active user in the given access group, password
// "pw-<name>".
func (as *authService) user(name, group string, perms ...string) *users.User {
	as.t.Helper()
	u := users.NewUser(name)
	u.Email = name + "@example.com"
	u.Perms = perms
	if err := as.store.Create(context.Background(), u, "pw-"+name); err != nil {
		as.t.Fatal(err)
	}
	if err := as.db.Create(&AccessGroup{UserID: u.ID, Group: group}).Error; err != nil {
		as.t.Fatal(err)
	}
	return u
}

// setFault makes the auth service answer with f until cleared (nil).
func (as *authService) setFault(f gin.HandlerFunc) {
	if f == nil {
		as.fault.Store(nil)
		return
	}
	as.fault.Store(&f)
}

// mapAccessGroup is the client's UserMapper: the users.User fields and the
// access group, in one transaction.
func mapAccessGroup(ctx context.Context, tx *gorm.DB, u remote.RemoteUser) error {
	if err := remote.DefaultUserMapper(ctx, tx, u); err != nil {
		return err
	}
	var extra struct {
		AccessGroup string `json:"access_group"`
	}
	if err := json.Unmarshal(u.Raw, &extra); err != nil {
		return err
	}
	return tx.Save(&AccessGroup{UserID: u.ID, Group: extra.AccessGroup}).Error
}

// clientService is a real client service on another loopback port, with
// its own database.
type clientService struct {
	t      testing.TB
	db     *gorm.DB
	client *remote.Client
	engine *gin.Engine
	srv    *httptest.Server
}

func newClientService(t testing.TB, as *authService, edit func(*remote.Config)) *clientService {
	t.Helper()
	cs, err := tryClientService(t, as, edit)
	if err != nil {
		t.Fatalf("remote.Mount: %v", err)
	}
	return cs
}

func tryClientService(t testing.TB, as *authService, edit func(*remote.Config)) (*clientService, error) {
	t.Helper()
	ctx := context.Background()
	db := testdb.SQLite(t)
	if err := users.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&AccessGroup{}); err != nil {
		t.Fatal(err)
	}
	cfg := remote.Config{
		AuthURL: as.srv.URL, Credential: credential, DB: db, UserMapper: mapAccessGroup, Logger: quietLogger(),
		Timeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	cs := &clientService{t: t, db: db, engine: gin.New()}
	cl, err := remote.Mount(cs.engine, cfg)
	if err != nil {
		return nil, err
	}
	cs.client = cl
	api := cs.engine.Group("/api")
	api.GET("/test", ginjwt.RequireLogin(), func(c *gin.Context) { c.JSON(200, "success") })
	api.POST("/echo", ginjwt.RequireLogin(), func(c *gin.Context) { c.JSON(200, "posted") })
	api.GET("/admin", ginjwt.RequireLogin(), requireGroup(db, "admin"), func(c *gin.Context) { c.JSON(200, "admin area") })
	cs.srv = httptest.NewServer(cs.engine)
	t.Cleanup(func() {
		cs.srv.Close()
		_ = cl.Close(context.Background())
	})
	return cs, nil
}

// requireGroup lets through users of the access group only, from the
// local copy.
func requireGroup(db *gorm.DB, group string) gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		var g AccessGroup
		if err := db.Where("user_id = ?", claims.UserID).Limit(1).Find(&g).Error; err != nil || g.Group != group {
			ginjwt.AbortWithError(c, ginjwt.ErrPermissionDenied)
			return
		}
		c.Next()
	}
}

// browser is an HTTP client with a cookie jar.
type browser struct {
	t    testing.TB
	http *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// result is an answer read whole.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (r result) want(t testing.TB, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("want %d %s, got %d: %s", status, code, r.status, r.body)
	}
	if code != "" {
		var e ginjwt.ErrorBody
		r.json(t, &e)
		if e.Error != code {
			t.Fatalf("want %d %s, got %d %s", status, code, r.status, r.body)
		}
	}
}

func (b *browser) do(method, url string, body any, header http.Header) result {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		s, ok := body.(string)
		if !ok {
			raw, _ := json.Marshal(body)
			s = string(raw)
		}
		rd = strings.NewReader(s)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, data}
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// pair is a JSON-mode login answer.
type pair struct {
	Access, Refresh string
}

func (b *browser) login(base, name string) pair {
	b.t.Helper()
	r := b.do("POST", base+"/auth/token", map[string]string{"username": name, "password": "pw-" + name}, nil)
	r.want(b.t, 200, "")
	var p pair
	r.json(b.t, &p)
	if p.Access == "" || p.Refresh == "" {
		b.t.Fatalf("login answer %s", r.body)
	}
	return p
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
