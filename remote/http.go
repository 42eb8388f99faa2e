package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/ginjwt/ginjwt"
)

// newHTTPClient is the client of every request to the auth service: TLS
// verified (unless InsecureSkipVerify), through Config.Proxy only (never
// the environment's), redirects never followed (a 3xx is
// a bad answer), each request bounded by Timeout.
func newHTTPClient(cfg *Config) *http.Client {
	return httpClient(cfg.RootCAs, cfg.InsecureSkipVerify, cfg.Proxy, cfg.Timeout)
}

// httpClient is newHTTPClient's client from its parts, for the auth
// service and for other issuers' JWKS (NewIssuer).
func httpClient(rootCAs *x509.CertPool, insecureSkipVerify bool, proxy func(*http.Request) (*url.URL, error), timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            rootCAs,
		InsecureSkipVerify: insecureSkipVerify, //nolint:gosec // an explicit, loudly documented option
	}
	tr.Proxy = proxy // nil: no proxy, whatever HTTP_PROXY says
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answer is an answer of the auth service, read whole (at most
// MaxResponseBytes).
type answer struct {
	status int
	header http.Header
	body   []byte
}

// call is one request to the auth service. Every failure wraps
// ginjwt.ErrRemoteUnavailable: ErrRemoteTimeout when it took too long,
// ErrRemoteBadAnswer for a 5xx (503 excepted), a 3xx or an answer too
// large. 4xx answers are returned as they are, for the caller to pass on.
func (cl *Client) call(ctx context.Context, method, url string, body []byte, header http.Header) (*answer, error) {
	h := make(http.Header, len(header)+1)
	for k, v := range header {
		h[k] = v
	}
	h.Set(ginjwt.ServiceCredentialHeader, cl.cfg.Credential)
	return do(ctx, cl.http, cl.cfg.MaxResponseBytes, method, url, body, h)
}

// do is one request with hc, answered by at most maxBytes, as call
// describes; it adds no credential.
func do(ctx context.Context, hc *http.Client, maxBytes int64, method, url string, body []byte, header http.Header) (*answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ginjwt.ErrRemoteUnavailable, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
			return nil, fmt.Errorf("%w: %s %s: %w", ginjwt.ErrRemoteTimeout, method, url, err)
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ginjwt.ErrRemoteUnavailable, method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err)):
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %w", ginjwt.ErrRemoteTimeout, method, url, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %w", ginjwt.ErrRemoteBadAnswer, method, url, err)
	case int64(len(data)) > maxBytes:
		return nil, fmt.Errorf("%w: %s %s: the answer is over %d bytes", ginjwt.ErrRemoteBadAnswer, method, url, maxBytes)
	case resp.StatusCode == http.StatusServiceUnavailable:
		return nil, fmt.Errorf("%w: %s %s: 503", ginjwt.ErrRemoteUnavailable, method, url)
	case resp.StatusCode >= 500 || (resp.StatusCode >= 300 && resp.StatusCode < 400) || resp.StatusCode < 200:
		return nil, fmt.Errorf("%w: %s %s: status %d", ginjwt.ErrRemoteBadAnswer, method, url, resp.StatusCode)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// decode reads a 200 answer's JSON into v; any other status, or a body
// that is not the JSON expected, is a bad answer.
func (a *answer) decode(v any) error {
	if a.status != http.StatusOK {
		return fmt.Errorf("%w: status %d", ginjwt.ErrRemoteBadAnswer, a.status)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("%w: %w", ginjwt.ErrRemoteBadAnswer, err)
	}
	return nil
}

// errorBody is the auth service's error answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// passOn answers the client with a 4xx error of the auth service, as the
// auth service gave it (its code and message are ginjwt's own, never the
// client's input), with the headers that go with it. An answer that is not
// a ginjwt error is a bad answer.
func passOn(c ginContext, a *answer) error {
	var e errorBody
	if a.status < 400 || a.status >= 500 || json.Unmarshal(a.body, &e) != nil || e.Error == "" || !codeLike(e.Error) {
		return fmt.Errorf("%w: status %d", ginjwt.ErrRemoteBadAnswer, a.status)
	}
	for _, h := range []string{"Retry-After", "WWW-Authenticate", "Allow"} {
		if v := a.header.Get(h); v != "" {
			c.Header(h, v)
		}
	}
	c.AbortWithStatusJSON(a.status, ginjwt.ErrorBody{Error: e.Error, Message: e.Message})
	return nil
}

// codeLike reports whether s looks like an error code: lower-case letters
// and underscores.
func codeLike(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}

// ginContext is the part of *gin.Context passOn writes to.
type ginContext interface {
	Header(key, value string)
	AbortWithStatusJSON(code int, obj any)
}
