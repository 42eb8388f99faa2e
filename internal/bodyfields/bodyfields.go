// Package bodyfields reads the named string fields of a request body, a
// JSON object or a form, strictly: no field can hide behind another.
//
// A JSON object is read member by member. A member named twice (exactly as
// spelled once unescaped, whether requested or not) is refused, where
// decoding into a map would let the last one win; so is a member whose name
// differs from a requested one only in case ("Username"), which
// encoding/json would fold into it elsewhere; so is anything after the
// object. A form field given twice is refused too.
package bodyfields

import (
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
)

// Error is a body refused by [JSON] or [Form]. Detail says why, for the
// client: it is written by this package, never copied from the body. Err is
// the error of reading the body behind it, if any (such as an
// *http.MaxBytesError when the body was cut off).
type Error struct {
	Detail string
	Err    error
}

func (e *Error) Error() string { return "bodyfields: " + e.Detail }
func (e *Error) Unwrap() error { return e.Err }

// refuse is a body refused with detail.
func refuse(detail string) error { return &Error{Detail: detail} }

// unreadable is a body whose reading failed with err.
func unreadable(err error, detail string) error { return &Error{Detail: detail, Err: err} }

// JSON reads the named string fields of the JSON object in r. A field that
// is absent or null is left out of the result; an empty body yields no
// fields. It fails with an [*Error] when the body is not one JSON object,
// names a member twice or one in another case than requested, or gives a
// requested field a value that is not a string.
func JSON(r io.Reader, names ...string) (map[string]string, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]string{}, nil
		}
		return nil, unreadable(err, "the body is not a JSON object")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, refuse("the body is not a JSON object")
	}
	out := map[string]string{}
	seen := map[string]struct{}{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, unreadable(err, "the body is not a JSON object")
		}
		key, ok := tok.(string)
		if !ok {
			return nil, refuse("the body is not a JSON object")
		}
		if _, dup := seen[key]; dup {
			return nil, refuse("the body names a member more than once")
		}
		seen[key] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, unreadable(err, "the body is not a JSON object")
		}
		name, wanted := requested(key, names)
		if name == "" {
			continue
		}
		if !wanted {
			return nil, refuse("a member name differs from " + name + " only in case")
		}
		if string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, refuse(name + " must be a string")
		}
		out[name] = s
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, unreadable(err, "the body is not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, unreadable(err, "the body has data after the JSON object")
		}
		return nil, refuse("the body has data after the JSON object")
	}
	return out, nil
}

// requested matches a member name against the requested field names: the
// name it is, or equals under case folding, and whether it is that name
// exactly; "" when it is none of them.
func requested(key string, names []string) (name string, exact bool) {
	for _, n := range names {
		if key == n {
			return n, true
		}
	}
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return n, false
		}
	}
	return "", false
}

// Form reads the named fields of a parsed form body (an
// http.Request.PostForm). A field that is absent is left out of the
// result; one given more than once is refused with an [*Error].
func Form(form url.Values, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range names {
		if vs, ok := form[name]; ok && len(vs) > 0 {
			if len(vs) > 1 {
				return nil, refuse(name + " is given more than once")
			}
			out[name] = vs[0]
		}
	}
	return out, nil
}
