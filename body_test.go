package ginjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
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
	h := newHarness(t, nil, func(c *Config) { c.Limits.MaxBodyBytes = 1 << 10 })
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

// TestOversizedBodyIs413WhateverItsType: a body over MaxBodyBytes is 413
// body_too_large on every endpoint that reads one, whatever Content-Type it
// claims (none, a malformed one, one ginjwt does not read, JSON that is
// refused at its first member) and whether its length is declared or it is
// chunked; the same bodies within the limit are 400 bad_request. Sent
// through a real server with a real client, so chunked means chunked on
// the wire.
func TestOversizedBodyIs413WhateverItsType(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	h := newHarness(t, nil, func(c *Config) { c.Limits.MaxBodyBytes = limit })
	h.user("alice")
	access := h.login("alice").Access
	var sawChunked sync.Map // path+content type → the server saw a chunked body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked" {
			sawChunked.Store(r.URL.Path+" "+r.Header.Get("Content-Type"), true)
		}
		h.engine.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	send := func(t *testing.T, path, contentType string, body []byte, chunked bool) (int, ErrorBody) {
		t.Helper()
		r, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if chunked {
			// A reader of unknown length: net/http sends it chunked.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body)))
			r.ContentLength = -1
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		r.Header.Set("Authorization", "Bearer "+access)
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, ok := sawChunked.LoadAndDelete(path + " " + contentType); ok != chunked {
			t.Fatalf("sent chunked: %v, want %v", ok, chunked)
		}
		var e ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	types := map[string]func(n int) []byte{
		"text/plain":          func(n int) []byte { return bytes.Repeat([]byte("a"), n) },
		"application/xml":     func(n int) []byte { return append([]byte("<a>"), bytes.Repeat([]byte("b"), n-3)...) },
		"":                    func(n int) []byte { return bytes.Repeat([]byte("x"), n) },
		"text/plain; charset": func(n int) []byte { return bytes.Repeat([]byte("y"), n) }, // malformed
		"application/json":    func(n int) []byte { return append([]byte(`{"token":5,"x":"`), bytes.Repeat([]byte("z"), n-16)...) },
		"application/x-www-form-urlencoded": func(n int) []byte {
			return append([]byte("token=%zz&x="), bytes.Repeat([]byte("w"), n-12)...) // malformed escape first
		},
	}
	paths := []string{"/auth/token", "/auth/token/refresh", "/auth/token/verify", "/auth/token/logout", "/auth/token/expire"}
	for ct, body := range types {
		for _, path := range paths {
			for _, chunked := range []bool{false, true} {
				name := fmt.Sprintf("%s %q chunked=%v", path, ct, chunked)
				t.Run(name, func(t *testing.T) {
					if code, e := send(t, path, ct, body(limit+1), chunked); code != 413 || e.Error != "body_too_large" {
						t.Fatalf("%d bytes: %d %q, want 413 body_too_large", limit+1, code, e.Error)
					}
					if code, e := send(t, path, ct, body(limit), chunked); code != 400 || e.Error != "bad_request" {
						t.Fatalf("%d bytes: %d %q, want 400 bad_request", limit, code, e.Error)
					}
				})
			}
		}
	}
	// Far over the limit, chunked: still 413, and the server does not wait
	// for the rest.
	if code, e := send(t, "/auth/token", "text/plain", bytes.Repeat([]byte("a"), 1<<20), true); code != 413 || e.Error != "body_too_large" {
		t.Fatalf("1 MiB chunked: %d %q", code, e.Error)
	}
}
