package ginjwt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/users"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string `json:"required"`
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Example  map[string]any `json:"example"`
			Examples map[string]struct {
				Value map[string]any `json:"value"`
			} `json:"examples"`
		} `json:"content"`
	} `json:"responses"`
}

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) (*openAPIDoc, map[string]openAPIOperation) {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") || len(doc.Servers) != 1 || doc.Servers[0].URL != "/auth" {
		t.Fatalf("openapi %q, servers %v: want 3.1 and /auth", doc.OpenAPI, doc.Servers)
	}
	ops := map[string]openAPIOperation{} // "POST /auth/token"
	for path, item := range doc.Paths {
		for key, raw := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+doc.Servers[0].URL+path] = op
		}
	}
	return &doc, ops
}

// ginPath turns an OpenAPI path template into gin's pattern.
func ginPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}

// TestOpenAPIMatchesRoutes: every route Mount registers under the prefix is
// in the document with its method, and every operation of the document is
// registered, over the configurations that between them register every
// endpoint (JSON mode with the registry and /token/update; a cookie mode,
// which adds DELETE /token/logout). Every operation documents its 200 and
// its 405.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	_, ops := loadOpenAPI(t)
	documented := map[string]bool{}
	for k := range ops {
		method, path, _ := strings.Cut(k, " ")
		documented[method+" "+ginPath(path)] = true
	}
	registered := map[string]bool{}
	for _, edit := range []func(*Config){
		func(c *Config) { c.Tokens.AllowRefreshUpdate = true; c.Service.Credentials = []string{testCredential} },
		func(c *Config) { c.Mode = TwoCookies },
		func(c *Config) { c.Mode = OneCookie; c.Registry.Disabled = true },
		func(c *Config) { c.SessionLogin.Enabled = true },
	} {
		h := newHarness(t, nil, edit)
		for _, r := range h.engine.Routes() {
			if strings.HasPrefix(r.Path, "/auth/") {
				registered[r.Method+" "+r.Path] = true
			}
		}
	}
	var missing, extra []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes registered but not documented: %v\ndocumented but not registered: %v", missing, extra)
	}
	if len(registered) < 13 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}
	for k, op := range ops {
		statuses := []string{"200", "405"}
		if _, redirects := op.Responses["303"]; redirects {
			statuses = statuses[1:] // a form's answer: its success is a redirect
		}
		for _, status := range statuses {
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s documents no %s", k, status)
			}
		}
	}
}

// TestOpenAPICodesMatchTables: the document's error codes are the error
// table's, its results the Result constants.
func TestOpenAPICodesMatchTables(t *testing.T) {
	t.Parallel()
	doc, _ := loadOpenAPI(t)
	var codes []string
	for _, row := range errorCodes {
		codes = append(codes, row.code)
	}
	codes = append(codes, internalError.code)
	got := doc.Components.Schemas["Error"].Properties["error"].Enum
	slices.Sort(codes)
	codes = slices.Compact(codes) // remote_unavailable is 502, 503 and 504
	slices.Sort(got)
	if !slices.Equal(codes, got) {
		t.Fatalf("Error.error enum %v, the table has %v", got, codes)
	}
	results := []string{ResultLoggedOut, ResultSessionRevoked, ResultSessionsRevoked, ResultLoggedOutEverywhere, ResultTokensExpired}
	got = doc.Components.Schemas["Result"].Properties["result"].Enum
	slices.Sort(results)
	slices.Sort(got)
	if !slices.Equal(results, got) {
		t.Fatalf("Result.result enum %v, the constants are %v", got, results)
	}
}

// keyShape is the member names of an answer, and of the first element of
// each array of objects and each object it holds, as "sessions[].device.label".
func keyShape(prefix string, v any, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			out[prefix+k] = true
			keyShape(prefix+k+".", x, out)
		}
	case []any:
		if len(v) > 0 {
			keyShape(strings.TrimSuffix(prefix, ".")+"[].", v[0], out)
		}
	}
}

func shapeOf(v any) []string {
	m := map[string]bool{}
	keyShape("", v, m)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIExamplesMatchAnswers: each example answer in the document has
// the members of the real answer of that operation, nested ones included
// (sessions, devices), in every mode the example stands for; and every
// error example has the members of a real error.
func TestOpenAPIExamplesMatchAnswers(t *testing.T) {
	t.Parallel()
	_, ops := loadOpenAPI(t)
	example := func(t *testing.T, key, name string) map[string]any {
		t.Helper()
		op, ok := ops[key]
		if !ok {
			t.Fatalf("no operation %s", key)
		}
		c := op.Responses["200"].Content["application/json"]
		if name == "" {
			if c.Example == nil {
				t.Fatalf("%s: no example", key)
			}
			return c.Example
		}
		ex, ok := c.Examples[name]
		if !ok {
			t.Fatalf("%s: no example %q", key, name)
		}
		return ex.Value
	}
	check := func(t *testing.T, key, name string, w *httptest.ResponseRecorder) {
		t.Helper()
		wantStatus(t, w, 200)
		var real any
		if err := json.Unmarshal(w.Body.Bytes(), &real); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if got, want := shapeOf(real), shapeOf(example(t, key, name)); !slices.Equal(got, want) {
			t.Errorf("%s (%s): the real answer has %v, the example %v", key, name, got, want)
		}
	}

	// JSON mode, everything on.
	h := newHarness(t, nil, func(c *Config) {
		c.Tokens.AllowRefreshUpdate, c.Accounts.UpdateLastLogin, c.Registry.Devices = true, true, true
	})
	carol := users.NewUser("carol")
	carol.Email = "carol@example.com"
	if err := h.store.Create(context.Background(), carol, "pw-carol"); err != nil {
		t.Fatal(err)
	}
	login := func() pairBody {
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "carol", "password": "pw-carol"},
			header: http.Header{"User-Agent": {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}}})
		check(t, "POST /auth/token", "json", w)
		var p pairBody
		decode(t, w, &p)
		return p
	}
	p := login()
	check(t, "POST /auth/token/refresh", "json", h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}))
	u := login()
	check(t, "POST /auth/token/update", "json", h.do(req{path: "/auth/token/update", json: map[string]string{"refresh": u.Refresh}}))
	check(t, "POST /auth/token/verify", "", h.do(req{path: "/auth/token/verify", json: map[string]string{"token": p.Access}}))
	me := login()
	check(t, "GET /auth/sessions", "", h.do(req{path: "/auth/sessions", bearer: me.Access}))
	check(t, "GET /auth/users/me", "", h.do(req{path: "/auth/users/me", bearer: me.Access}))
	check(t, "GET /auth/users/{id}", "", h.do(req{path: "/auth/users/" + carol.ID, bearer: me.Access}))
	x := login()
	check(t, "POST /auth/token/expire", "", h.do(req{path: "/auth/token/expire", json: map[string]string{"token": x.Refresh}, bearer: me.Access}))
	y := login()
	claims, err := h.auth.parse(y.Access)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "DELETE /auth/sessions/{id}", "", h.do(req{method: "DELETE", path: "/auth/sessions/" + claims.SessionID, bearer: me.Access}))
	login()
	check(t, "DELETE /auth/sessions", "keep_current", h.do(req{method: "DELETE", path: "/auth/sessions?keep=current", bearer: me.Access}))
	check(t, "POST /auth/token/logout", "", h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": me.Refresh}}))
	z := login()
	check(t, "DELETE /auth/sessions", "everywhere", h.do(req{method: "DELETE", path: "/auth/sessions", bearer: z.Access}))

	// A JWKS with an asymmetric key: the example's key members are an
	// Ed25519 key's.
	key, err := GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	mountOn(t, e, h, func(c *Config) { c.SigningKey, c.Keys = nil, []Key{key} })
	check(t, "GET /auth/jwks.json", "", serve(e, "GET", "/auth/jwks.json"))

	// Sliding tokens.
	s := newHarness(t, nil, func(c *Config) { c.Tokens.Sliding = true })
	s.user("alice")
	check(t, "POST /auth/token", "sliding", s.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}}))

	// The cookie modes.
	for _, mode := range []Mode{OneCookie, TwoCookies} {
		c := cookieHarness(t, nil, mode, nil)
		c.user("alice")
		b := newBrowser(t, c)
		check(t, "POST /auth/token", "cookie", b.login("alice"))
		c.clock.Advance(time.Second)
		check(t, "POST /auth/token/refresh", "cookie", b.do(req{method: "POST", path: "/auth/token/refresh", header: b.csrf()}))
		check(t, "DELETE /auth/token/logout", "", b.do(req{method: "DELETE", path: "/auth/token/logout", header: b.csrf()}))
	}

	// Errors: every error example has the members of a real error.
	real := h.do(req{path: "/auth/token", json: `{`})
	var want any
	if err := json.Unmarshal(real.Body.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	responses := doc["components"].(map[string]any)["responses"].(map[string]any)
	for name, r := range responses {
		ex := r.(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["example"]
		if got, w := shapeOf(ex), shapeOf(want); !slices.Equal(got, w) {
			t.Errorf("error example %s has %v, a real error %v", name, got, w)
		}
	}
	if t.Failed() {
		t.Logf("real error: %s", real.Body)
	}
}
