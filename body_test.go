package ginjwt

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestJSONBodyRefusesDuplicateMembers: a member named twice — or a name
// that differs from a field's only in case — is a bad request, never "the
// last one wins" (which logged {"username":"nobody","username":"alice"} in
// as alice).
func TestJSONBodyRefusesDuplicateMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")

	refused := map[string]string{
		"username twice":            `{"username":"nobody","username":"alice","password":"pw-alice"}`,
		"password twice":            `{"username":"alice","password":"wrong","password":"pw-alice"}`,
		"username escaped and not":  `{"user\u006eame":"nobody","username":"alice","password":"pw-alice"}`,
		"another member twice":      `{"username":"alice","password":"pw-alice","x":1,"x":2}`,
		"a member twice, one empty": `{"":1,"username":"alice","password":"pw-alice","":2}`,
		"username in capitals":      `{"USERNAME":"alice","password":"pw-alice"}`,
		"username and Username":     `{"username":"alice","Username":"bob","password":"pw-alice"}`,
		"long s folds to s":         `{"username":"alice","pa\u017fsword":"x","password":"pw-alice"}`,
	}
	for name, body := range refused {
		t.Run(name, func(t *testing.T) {
			wantError(t, h.do(req{path: "/auth/token", json: body}), 400, "bad_request")
		})
	}
	for name, body := range map[string]string{
		"refresh twice": `{"refresh":"garbage","refresh":"` + p.Refresh + `"}`,
		"Refresh":       `{"Refresh":"` + p.Refresh + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, h.do(req{path: "/auth/token/refresh", json: body}), 400, "bad_request")
		})
	}
	wantError(t, h.do(req{path: "/auth/token/verify", json: `{"token":"x","token":"` + p.Access + `"}`}), 400, "bad_request")

	for name, body := range map[string]string{
		"plain":         `{"username":"alice","password":"pw-alice"}`,
		"escaped name":  `{"user\u006eame":"alice","password":"pw-alice"}`,
		"other members": `{"username":"alice","password":"pw-alice","extra":{"a":[1,{"b":null}]},"n":1.5e3}`,
		"null member":   `{"username":"alice","password":"pw-alice","other":null}`,
		// Names that fold to each other but to no field are distinct members.
		"distinct folded others": `{"username":"alice","password":"pw-alice","\u212a":1,"k":2}`,
		"whitespace":             " \n{ \"username\" : \"alice\" ,\t\"password\":\"pw-alice\" } \n",
	} {
		t.Run("accepted: "+name, func(t *testing.T) {
			wantStatus(t, h.do(req{path: "/auth/token", json: body}), 200)
		})
	}

	for name, body := range map[string]string{
		"trailing comma": `{"username":"alice","password":"pw-alice",}`,
		"no colon":       `{"username" "alice","password":"pw-alice"}`,
		"unclosed":       `{"username":"alice","password":"pw-alice"`,
		"number key":     `{1:"alice"}`,
		"trailing data":  `{"username":"alice","password":"pw-alice"}x`,
		"array":          `[{"username":"alice","password":"pw-alice"}]`,
	} {
		t.Run("malformed: "+name, func(t *testing.T) {
			wantError(t, h.do(req{path: "/auth/token", json: body}), 400, "bad_request")
		})
	}
}

// TestJSONBodyLimitWithManyMembers: reading member by member keeps the
// size limit, declared or not.
func TestJSONBodyLimitWithManyMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.MaxBodyBytes = 1 << 10 })
	var b strings.Builder
	b.WriteString(`{"username":"alice","password":"x"`)
	for i := 0; b.Len() < 8<<10; i++ {
		b.WriteString(`,"m` + strconv.Itoa(i) + `":[1,2,3]`)
	}
	b.WriteString("}")
	r := httptest.NewRequest("POST", "/auth/token", strings.NewReader(b.String()))
	r.ContentLength = -1 // chunked: the limit must cut it off while reading
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.engine.ServeHTTP(w, r)
	wantError(t, w, http.StatusRequestEntityTooLarge, "body_too_large")
}
