package ginjwt

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// sectionsOf returns the sections of a resolved Config, without the
// functions and pointers that cannot be compared.
func sectionsOf(r resolved) []any {
	r.Tokens.ClaimsHook = nil
	return []any{r.Mode, r.Tokens, r.Transport, r.Routes.Prefix, r.Routes.Paths, r.Registry, r.Accounts, r.Limits, r.Service}
}

// TestConfigFlatFieldsStillWork: a program written for the flat Config of
// earlier versions gets the same settings as one written with sections.
func TestConfigFlatFieldsStillWork(t *testing.T) {
	t.Parallel()
	flat := Config{
		SigningKey: testSecret, AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour, Leeway: 30 * time.Second,
		Issuer: "iss", Audience: []string{"aud"}, RefuseLegacyTyp: true, DisableRefreshRotation: true,
		AllowRefreshUpdate: true, ReuseGrace: time.Second, Mode: OneCookie,
		Cookies: Cookies{Insecure: true, SameSite: http.SameSiteStrictMode}, CSRF: CSRF{HeaderName: "X-C", TrustedOrigins: []string{"https://a.example"}},
		AuthScheme: "Token", TrustedProxies: []string{"10.0.0.0/8"}, Prefix: "/a", Paths: Paths{Obtain: "-", Verify: "/v"},
		MaxBodyBytes: 1000, Throttle: Throttle{PerIP: 3}, Cache: Cache{MaxEntries: 5}, UpdateLastLogin: true, ExpireAnyPerm: "p",
	}
	sections := Config{
		SigningKey: testSecret, Mode: OneCookie,
		Tokens: Tokens{AccessTTL: 10 * time.Minute, RefreshTTL: time.Hour, Leeway: 30 * time.Second, Issuer: "iss", Audience: []string{"aud"},
			RefuseLegacyTyp: true, DisableRefreshRotation: true, AllowRefreshUpdate: true, ReuseGrace: time.Second},
		Transport: Transport{Cookies: Cookies{Insecure: true, SameSite: http.SameSiteStrictMode}, CSRF: CSRF{HeaderName: "X-C", TrustedOrigins: []string{"https://a.example"}},
			AuthScheme: "Token", TrustedProxies: []string{"10.0.0.0/8"}},
		Routes:   Routes{Prefix: "/a", Paths: Paths{Obtain: "-", Verify: "/v"}},
		Registry: RegistryConfig{ExpireAnyPerm: "p"},
		Accounts: Accounts{UpdateLastLogin: true},
		Limits:   Limits{MaxBodyBytes: 1000, Throttle: Throttle{PerIP: 3}, Cache: Cache{MaxEntries: 5}},
	}
	a, err := New(flat)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(sections)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sectionsOf(a.cfg), sectionsOf(b.cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("flat fields resolve to\n%+v\nsections to\n%+v", got, want)
	}
	if a.cfg.rotate {
		t.Fatal("DisableRefreshRotation set flat did not turn rotation off")
	}
}

// TestConfigEveryFlatFieldHasASection: each deprecated flat field is moved
// to a section field of the same type, so none is silently ignored.
func TestConfigEveryFlatFieldHasASection(t *testing.T) {
	t.Parallel()
	current := map[string]bool{"SigningKey": true, "Keys": true, "Mode": true, "DB": true, "Users": true, "Tokens": true,
		"Transport": true, "Routes": true, "Registry": true, "Accounts": true, "Limits": true, "Service": true, "SessionLogin": true, "Logger": true, "Clock": true}
	mapped := map[string]string{}
	for _, f := range flatFields {
		mapped[f.flat] = f.section
	}
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		if current[f.Name] || f.Name == "RotateRefresh" {
			continue
		}
		path, ok := mapped[f.Name]
		if !ok {
			t.Errorf("Config.%s is neither a section nor moved to one by adoptFlat", f.Name)
			continue
		}
		section, field, _ := strings.Cut(path, ".")
		st, ok := ct.FieldByName(section)
		if !ok {
			t.Errorf("Config.%s: no section %s", f.Name, section)
			continue
		}
		sf, ok := st.Type.FieldByName(field)
		if !ok || sf.Type != f.Type {
			t.Errorf("Config.%s: %s is missing or of another type", f.Name, path)
		}
	}
}

// TestConfigFlatAndSectionTogether: a flat field and its section field set
// to different values is an error naming both; the same value is not.
func TestConfigFlatAndSectionTogether(t *testing.T) {
	t.Parallel()
	_, err := New(Config{SigningKey: testSecret, AccessTTL: time.Minute, Tokens: Tokens{AccessTTL: 2 * time.Minute}, Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err == nil || !strings.Contains(err.Error(), "Config.Tokens.AccessTTL") || !strings.Contains(err.Error(), "Config.AccessTTL") {
		t.Fatalf("want an error naming both fields, got %v", err)
	}
	if _, err := New(Config{SigningKey: testSecret, AccessTTL: time.Minute, Tokens: Tokens{AccessTTL: time.Minute}, Routes: Routes{Paths: Paths{Obtain: "-"}}}); err != nil {
		t.Fatalf("the same value twice: %v", err)
	}
	hook := func(context.Context, *users.User, *Claims) error { return nil }
	_, err = New(Config{SigningKey: testSecret, ClaimsHook: hook, Tokens: Tokens{ClaimsHook: hook}, Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err == nil || !strings.Contains(err.Error(), "ClaimsHook") {
		t.Fatalf("two hooks: want an error, got %v", err)
	}
}

// TestConfigErrorsNameTheFieldTheApplicationSet: an error about a value set
// through a deprecated flat field names that field, not the section's.
func TestConfigErrorsNameTheFieldTheApplicationSet(t *testing.T) {
	t.Parallel()
	_, err := New(Config{SigningKey: testSecret, MaxBodyBytes: -1})
	if err == nil || !strings.Contains(err.Error(), "Config.MaxBodyBytes must be positive") || strings.Contains(err.Error(), "Limits") {
		t.Fatalf("got %v", err)
	}
	_, err = New(Config{SigningKey: testSecret, Cookies: Cookies{AccessName: "a b"}, Mode: OneCookie})
	if err == nil || !strings.Contains(err.Error(), "Config.Cookies.AccessName") || strings.Contains(err.Error(), "Transport") {
		t.Fatalf("got %v", err)
	}
	_, err = New(Config{SigningKey: testSecret, AccessTTL: time.Hour, RefreshTTL: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "Config.RefreshTTL (1m0s) must not be shorter than Config.AccessTTL") {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, errors.Unwrap(err)) {
		t.Fatal("a renamed error must unwrap to the original")
	}
}

// TestConfigErrorsAreDeterministic: with several wrong fields, the error
// names the first in the order Config declares them, every time.
func TestConfigErrorsAreDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{
		SigningKey: testSecret,
		Tokens:     Tokens{Leeway: time.Hour},
		Transport:  Transport{AuthScheme: "a b"},
		Routes:     Routes{Prefix: "x"},
		Registry:   RegistryConfig{Async: true, Devices: true, RevokeRotated: true},
		Limits:     Limits{MaxBodyBytes: -1, Throttle: Throttle{PerIP: -1}},
	}
	for i := range 50 {
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), "Config.Tokens.Leeway") {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	cfg.Tokens.Leeway, cfg.Transport.AuthScheme, cfg.Routes.Prefix = 0, "", ""
	for i := range 50 {
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), "Config.Registry.RevokeRotated") {
			t.Fatalf("try %d: %v", i, err)
		}
	}
}

// TestConfigLeavesTheCallersValuesAlone: New copies the slices it
// normalises and keeps, so neither side can change the other's.
func TestConfigLeavesTheCallersValuesAlone(t *testing.T) {
	t.Parallel()
	origins := []string{"HTTPS://App.Example.COM:443/"}
	aud := []string{"a"}
	proxies := []string{"10.0.0.0/8"}
	keys := []Key{{Algorithm: "HS256", Secret: testSecret}}
	cfg := Config{Keys: keys, Mode: OneCookie, Tokens: Tokens{Audience: aud},
		Transport: Transport{CSRF: CSRF{TrustedOrigins: origins}, TrustedProxies: proxies}, Routes: Routes{Paths: Paths{Obtain: "-"}}}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if origins[0] != "HTTPS://App.Example.COM:443/" {
		t.Fatalf("the caller's TrustedOrigins were rewritten: %q", origins[0])
	}
	if cfg.Routes.Prefix != "" || cfg.Tokens.AccessTTL != 0 || cfg.Limits.MaxBodyBytes != 0 {
		t.Fatal("the caller's Config was filled in")
	}
	aud[0], proxies[0], keys[0].Algorithm = "changed", "0.0.0.0/0", "HS512"
	if a.cfg.Tokens.Audience[0] != "a" || a.cfg.Transport.TrustedProxies[0] != "10.0.0.0/8" || a.cfg.Keys[0].Algorithm != "HS256" {
		t.Fatal("the Auth shares slices with the caller")
	}
}

// TestDefaultConfig: DefaultConfig holds what a zero Config resolves to,
// and starting from it changes nothing.
func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	zero, err := New(Config{SigningKey: testSecret, Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	d.SigningKey, d.Routes.Paths.Obtain = testSecret, "-"
	fromDefaults, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sectionsOf(fromDefaults.cfg), sectionsOf(zero.cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultConfig resolves to\n%+v\na zero Config to\n%+v", got, want)
	}
	// The cookie names are derived (their prefixes depend on Insecure and
	// Domain), so DefaultConfig leaves them empty; everything else is set.
	if d.Tokens.AccessTTL == 0 || d.Limits.Throttle.MaxWait == 0 || d.Registry.ActivityEvery == 0 || d.Accounts.MinPasswordLen == 0 || d.Transport.CSRF.HeaderName == "" {
		t.Fatalf("DefaultConfig misses a default: %+v", d)
	}
}

// TestMountRefusesRoutesGinWouldPanicOn: duplicate paths, and a path the
// application registered already, are errors naming Config.Routes, never
// a panic.
func TestMountRefusesRoutesGinWouldPanicOn(t *testing.T) {
	t.Parallel()
	_, err := Mount(gin.New(), Config{SigningKey: testSecret, Routes: Routes{Paths: Paths{Obtain: "-", Refresh: "/t", Verify: "/t"}}})
	if err == nil || !strings.Contains(err.Error(), "Config.Routes.Paths.Refresh and Config.Routes.Paths.Verify are both \"/t\"") {
		t.Fatalf("duplicate paths: %v", err)
	}
	_, err = Mount(gin.New(), Config{SigningKey: testSecret, Paths: Paths{Obtain: "-", Refresh: "/t", Verify: "/t"}})
	if err == nil || !strings.Contains(err.Error(), "Config.Paths.Refresh and Config.Paths.Verify") {
		t.Fatalf("duplicate flat paths: %v", err)
	}
	r := gin.New()
	r.POST("/auth/token/refresh", func(*gin.Context) {})
	db := testdb.SQLite(t)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	_, err = Mount(r, Config{SigningKey: testSecret, DB: db})
	if err == nil || !strings.Contains(err.Error(), "Config.Routes") {
		t.Fatalf("a route the application has: %v", err)
	}
}

// TestMountDefaultStorePasswordPolicy: the store Mount builds from DB
// refuses passwords shorter than Accounts.MinPasswordLen (8 by default).
func TestMountDefaultStorePasswordPolicy(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		min      int
		password string
		ok       bool
	}{{0, "1234567", false}, {0, "12345678", true}, {12, "12345678901", false}, {3, "abc", true}} {
		a, err := New(Config{SigningKey: testSecret, DB: db, Registry: RegistryConfig{Disabled: true},
			Accounts: Accounts{MinPasswordLen: tc.min, Hasher: fastHasher()}})
		if err != nil {
			t.Fatal(err)
		}
		store := a.users.(*users.Store)
		err = store.Create(context.Background(), users.NewUser("u"+tc.password), tc.password)
		if (err == nil) != tc.ok {
			t.Errorf("MinPasswordLen %d, password %q: err = %v", tc.min, tc.password, err)
		}
	}
}
