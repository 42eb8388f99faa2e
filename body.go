package ginjwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// limitBody is the first handler of every auth endpoint: a body declared
// longer than Config.MaxBodyBytes is refused before it is read, and any other
// is cut off at that size.
func (a *Auth) limitBody(c *gin.Context) {
	if c.Request.ContentLength > a.cfg.MaxBodyBytes {
		c.Header("Connection", "close")
		AbortWithError(c, ErrBodyTooLarge)
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxBodyBytes)
	}
	c.Next()
}

// fields are the string fields of a request body.
type fields map[string]string

// bodyFields reads the named string fields from a JSON object or a form
// (application/x-www-form-urlencoded) body. A field that is absent or null
// is left out of the result; one of another type is ErrBadRequest; an empty
// body yields no fields.
func bodyFields(c *gin.Context, names ...string) (fields, error) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return fields{}, nil
	}
	mediaType := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, withDetail(ErrBadRequest, "the Content-Type header is malformed")
		}
		mediaType = mt
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return jsonFields(r.Body, names)
	case mediaType == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, bodyError(err, "the form body is malformed")
		}
		out := fields{}
		for _, name := range names {
			if vs, ok := r.PostForm[name]; ok && len(vs) > 0 {
				if len(vs) > 1 {
					return nil, withDetail(ErrBadRequest, name+" is given more than once")
				}
				out[name] = vs[0]
			}
		}
		return out, nil
	case mediaType == "":
		// No body at all is fine (a refresh by header or cookie); a body
		// without a type is not.
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, bodyError(err, "the body could not be read")
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return fields{}, nil
		}
		return nil, withDetail(ErrBadRequest, "send the body as application/json or application/x-www-form-urlencoded")
	default:
		return nil, withDetail(ErrBadRequest, "send the body as application/json or application/x-www-form-urlencoded")
	}
}

// jsonFields reads the named string fields of a JSON object. The object is
// read member by member, so that no member can hide behind another: a name
// given twice (any member, exactly as spelled once unescaped) is refused,
// where decoding into a map would let the last win, and so is a name that
// differs from a requested one only in case ("Username"), which
// encoding/json would fold into it elsewhere.
func jsonFields(body io.Reader, names []string) (fields, error) {
	dec := json.NewDecoder(body)
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fields{}, nil
		}
		return nil, bodyError(err, "the body is not a JSON object")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, withDetail(ErrBadRequest, "the body is not a JSON object")
	}
	out := fields{}
	seen := map[string]struct{}{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bodyError(err, "the body is not a JSON object")
		}
		key, ok := tok.(string)
		if !ok {
			return nil, withDetail(ErrBadRequest, "the body is not a JSON object")
		}
		if _, dup := seen[key]; dup {
			return nil, withDetail(ErrBadRequest, "the body names a member more than once")
		}
		seen[key] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bodyError(err, "the body is not a JSON object")
		}
		name, wanted := requested(key, names)
		if name == "" {
			continue
		}
		if !wanted {
			return nil, withDetail(ErrBadRequest, "a member name differs from "+name+" only in case")
		}
		if string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, withDetail(ErrBadRequest, name+" must be a string")
		}
		out[name] = s
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, bodyError(err, "the body is not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, bodyError(err, "the body has data after the JSON object")
		}
		return nil, withDetail(ErrBadRequest, "the body has data after the JSON object")
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

// bodyError turns a read error into ErrBodyTooLarge when the size limit cut
// the body off, and into ErrBadRequest with detail otherwise.
func bodyError(err error, detail string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return ErrBodyTooLarge
	}
	return withDetail(ErrBadRequest, detail)
}

// require returns the field name, or a bad-request error naming it.
func (f fields) require(name string) (string, error) {
	v, ok := f[name]
	if !ok || v == "" {
		return "", withDetail(ErrBadRequest, name+" is required")
	}
	return v, nil
}
