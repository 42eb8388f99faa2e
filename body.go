package ginjwt

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/bodyfields"
)

// limitBody is the first handler of every auth endpoint: a body declared
// longer than Config.Limits.MaxBodyBytes is refused before it is read, and any other
// is cut off at that size.
func (a *Auth) limitBody(c *gin.Context) {
	if c.Request.ContentLength > a.cfg.Limits.MaxBodyBytes {
		c.Header("Connection", "close")
		AbortWithError(c, ErrBodyTooLarge)
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.Limits.MaxBodyBytes)
	}
	c.Next()
}

// fields are the string fields of a request body.
type fields map[string]string

// bodyFields reads the named string fields from a JSON object or a form
// (application/x-www-form-urlencoded) body, strictly (see [bodyfields]). A
// field that is absent or null is left out of the result; one of another
// type, or given twice, is ErrBadRequest; an empty body yields no fields.
//
// The body is read whole (at most Config.Limits.MaxBodyBytes) before its type is
// looked at, so a body over the limit is ErrBodyTooLarge whatever it
// claims to be, declared or chunked, and never a bad request.
func (a *Auth) bodyFields(c *gin.Context, names ...string) (fields, error) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return fields{}, nil
	}
	body, err := a.readBody(c)
	if err != nil {
		return nil, err
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
		f, err := bodyfields.JSON(bytes.NewReader(body), names...)
		if err != nil {
			return nil, fieldsError(err)
		}
		return f, nil
	case mediaType == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, withDetail(ErrBadRequest, "the form body is malformed")
		}
		f, err := bodyfields.Form(form, names...)
		if err != nil {
			return nil, fieldsError(err)
		}
		return f, nil
	case mediaType == "" && len(bytes.TrimSpace(body)) == 0:
		// No body at all is fine (a refresh by header or cookie); a body
		// without a type is not.
		return fields{}, nil
	default:
		return nil, withDetail(ErrBadRequest, "send the body as application/json or application/x-www-form-urlencoded")
	}
}

// readBody reads the request body whole, at most Config.Limits.MaxBodyBytes: a
// longer one is ErrBodyTooLarge (and the connection is closed after the
// answer, the rest of the body unread). It bounds the read itself, so it
// holds on routes the limitBody handler does not cover (an application's
// own logout view calling [Auth.Logout]). The body is consumed.
func (a *Auth) readBody(c *gin.Context) ([]byte, error) {
	limit := a.cfg.Limits.MaxBodyBytes
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.Header("Connection", "close")
		}
		return nil, bodyError(err, "the body could not be read")
	}
	return b, nil
}

// fieldsError maps a refusal of [bodyfields] to ErrBodyTooLarge when the
// size limit cut the body off, and to ErrBadRequest with its detail
// otherwise.
func fieldsError(err error) error {
	detail := "the body could not be read"
	var e *bodyfields.Error
	if errors.As(err, &e) {
		detail = e.Detail
	}
	return bodyError(err, detail)
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
