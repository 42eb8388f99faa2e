package bodyfields

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	t.Parallel()
	accepted := []struct {
		name, body string
		want       map[string]string
	}{
		{"both fields", `{"username":"alice","password":"pw"}`, map[string]string{"username": "alice", "password": "pw"}},
		{"empty body", ``, map[string]string{}},
		{"blank body", " \n\t", map[string]string{}},
		{"empty object", `{}`, map[string]string{}},
		{"null is absent", `{"username":null,"password":"pw"}`, map[string]string{"password": "pw"}},
		{"other members of any type", `{"x":[1,{"y":2}],"username":"alice","n":3,"b":true}`, map[string]string{"username": "alice"}},
		{"escaped value", `{"username":"al\u0069ce"}`, map[string]string{"username": "alice"}},
		{"empty string", `{"username":""}`, map[string]string{"username": ""}},
		{"trailing space", "{\"username\":\"alice\"}\n", map[string]string{"username": "alice"}},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := JSON(strings.NewReader(tc.body), "username", "password")
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("JSON(%q) = %v, %v; want %v", tc.body, got, err, tc.want)
			}
		})
	}
	refused := []struct {
		name, body, detail string
	}{
		{"username twice", `{"username":"nobody","username":"alice"}`, "the body names a member more than once"},
		{"escaped and not", `{"user\u006eame":"nobody","username":"alice"}`, "the body names a member more than once"},
		{"another member twice", `{"x":1,"username":"alice","x":2}`, "the body names a member more than once"},
		{"empty name twice", `{"":1,"":2}`, "the body names a member more than once"},
		{"capitals", `{"USERNAME":"alice"}`, "a member name differs from username only in case"},
		{"long s folds to s", `{"pa\u017fsword":"x","password":"pw"}`, "a member name differs from password only in case"},
		{"a number", `{"username":1}`, "username must be a string"},
		{"an object", `{"password":{"a":"b"}}`, "password must be a string"},
		{"an array", `["username","alice"]`, "the body is not a JSON object"},
		{"a string", `"alice"`, "the body is not a JSON object"},
		{"not JSON", `username=alice`, "the body is not a JSON object"},
		{"cut short", `{"username":"alice"`, "the body is not a JSON object"},
		{"bad member value", `{"username":}`, "the body is not a JSON object"},
		{"two objects", `{"username":"alice"}{"username":"bob"}`, "the body has data after the JSON object"},
		{"garbage after", `{"username":"alice"} x`, "the body has data after the JSON object"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := JSON(strings.NewReader(tc.body), "username", "password")
			var e *Error
			if !errors.As(err, &e) || e.Detail != tc.detail || got != nil {
				t.Fatalf("JSON(%q) = %v, %v; want an *Error %q", tc.body, got, err, tc.detail)
			}
		})
	}
}

// TestJSONReadError: a body cut off by its size limit fails with an *Error
// that unwraps to the reader's error, so the caller can tell 413 from 400.
func TestJSONReadError(t *testing.T) {
	t.Parallel()
	body := `{"username":"` + strings.Repeat("a", 100) + `"}`
	r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), 50)
	_, err := JSON(r, "username")
	var e *Error
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &e) || !errors.As(err, &tooLarge) {
		t.Fatalf("a body over its limit: %v; want an *Error wrapping *http.MaxBytesError", err)
	}
	// A refusal of the content has no read error behind it.
	_, err = JSON(strings.NewReader(`{"username":1}`), "username")
	if !errors.As(err, &e) || e.Err != nil || errors.As(err, &tooLarge) {
		t.Fatalf("a refused member: %v; want an *Error without a read error", err)
	}
}

func TestForm(t *testing.T) {
	t.Parallel()
	got, err := Form(url.Values{"username": {"alice"}, "password": {""}, "other": {"1", "2"}}, "username", "password", "absent")
	if want := map[string]string{"username": "alice", "password": ""}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("Form = %v, %v; want %v", got, err, want)
	}
	_, err = Form(url.Values{"username": {"nobody", "alice"}}, "username")
	var e *Error
	if !errors.As(err, &e) || e.Detail != "username is given more than once" {
		t.Fatalf("a field given twice: %v; want an *Error", err)
	}
}
