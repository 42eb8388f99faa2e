package ginjwt

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/dbfault"
	"github.com/ginjwt/ginjwt/users"
)

// Errors a request can end with. Each maps to one stable code in the JSON
// error body (see [ErrorBody]); errors returned by ginjwt wrap them, so test
// with errors.Is.
var (
	// ErrBadRequest: the body or a parameter is malformed, of the wrong type or missing.
	ErrBadRequest = errors.New("ginjwt: bad request")
	// ErrInvalidCredentials: the login or the password is wrong, or the account is inactive.
	ErrInvalidCredentials = errors.New("ginjwt: invalid credentials")
	// ErrTokenMissing: the request carries no token where one is needed.
	ErrTokenMissing = errors.New("ginjwt: token missing")
	// ErrTokenInvalid: the token is malformed, forged, signed with an unknown
	// key or algorithm, or lacks a required claim.
	ErrTokenInvalid = errors.New("ginjwt: token invalid")
	// ErrTokenExpired: the token was valid and its exp has passed.
	ErrTokenExpired = errors.New("ginjwt: token expired")
	// ErrTokenNotYetValid: the token's nbf (or iat) lies in the future.
	ErrTokenNotYetValid = errors.New("ginjwt: token not yet valid")
	// ErrTokenRevoked: the token, its session or its user was revoked.
	ErrTokenRevoked = errors.New("ginjwt: token revoked")
	// ErrTokenTypeInvalid: an access token where a refresh token belongs, or the reverse.
	ErrTokenTypeInvalid = errors.New("ginjwt: wrong token type")
	// ErrCSRFFailed: a cookie-authenticated unsafe request failed the CSRF check.
	ErrCSRFFailed = errors.New("ginjwt: CSRF check failed")
	// ErrPermissionDenied: the caller is authenticated but lacks a permission.
	ErrPermissionDenied = errors.New("ginjwt: permission denied")
	// ErrNotFound: the resource does not exist (or is not the caller's to see).
	ErrNotFound = errors.New("ginjwt: not found")
	// ErrMethodNotAllowed: the path is one of ginjwt's endpoints, which does
	// not serve this method; the answer's Allow header lists those it does.
	ErrMethodNotAllowed = errors.New("ginjwt: method not allowed")
	// ErrBodyTooLarge: the request body exceeds Config.Limits.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("ginjwt: request body too large")
	// ErrTooManyRequests: too many failed logins for this account or client.
	ErrTooManyRequests = errors.New("ginjwt: too many requests")
	// ErrUnavailable: a dependency (the database, the hashing capacity) cannot
	// serve the request now; it is answered 503 with Retry-After and is never
	// counted as a failed login. A UserStore of the application's own wraps
	// it to say its backend is down.
	ErrUnavailable = errors.New("ginjwt: service unavailable")
	// ErrServiceUnauthorized: a service endpoint (the revocation feed) was
	// called without a valid service credential (Config.Service). The
	// answer says nothing more.
	ErrServiceUnauthorized = errors.New("ginjwt: service credential missing or wrong")
	// ErrRemoteUnavailable: on a client service (package remote), the auth
	// service could not answer, or the revocations it publishes are too
	// old to tell whether a token still stands. Answered 503; the two
	// errors below wrap it for 504 and 502.
	ErrRemoteUnavailable = errors.New("ginjwt: auth service unavailable")
	// ErrRemoteTimeout: the auth service did not answer in time (504). It
	// wraps ErrRemoteUnavailable.
	ErrRemoteTimeout = fmt.Errorf("%w: timed out", ErrRemoteUnavailable)
	// ErrRemoteBadAnswer: the auth service answered with a server error, a
	// redirect, an answer too large or one that cannot be read (502). It
	// wraps ErrRemoteUnavailable.
	ErrRemoteBadAnswer = fmt.Errorf("%w: bad answer", ErrRemoteUnavailable)
	// ErrNoRegistry: the operation needs the token registry, which is off
	// (Config.DB is nil, or Registry.Disabled is set). It is a programming
	// error, answered 500 when it reaches a handler.
	ErrNoRegistry = errors.New("ginjwt: the token registry is off (set Config.DB)")
)

// ErrorBody is the JSON body of every error answer:
//
//	{"error": "token_expired", "message": "token expired"}
//
// Error is a stable code a client may switch on; Message is for people and
// may change.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// errorCode is one row of the table that maps errors to answers.
type errorCode struct {
	err     error
	status  int
	code    string
	message string
}

// errorCodes maps each sentinel to its status, code and the message clients
// see. The message never carries request data or internals.
var errorCodes = []errorCode{
	{ErrBadRequest, http.StatusBadRequest, "bad_request", "the request is malformed"},
	{ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "no active account matches these credentials"},
	{ErrTokenMissing, http.StatusUnauthorized, "token_missing", "no token was presented"},
	{ErrTokenInvalid, http.StatusUnauthorized, "token_invalid", "the token is invalid"},
	{ErrTokenExpired, http.StatusUnauthorized, "token_expired", "the token has expired"},
	{ErrTokenNotYetValid, http.StatusUnauthorized, "token_not_yet_valid", "the token is not valid yet"},
	{ErrTokenRevoked, http.StatusUnauthorized, "token_revoked", "the token has been revoked"},
	{ErrTokenTypeInvalid, http.StatusUnauthorized, "token_type_invalid", "this kind of token is not accepted here"},
	{ErrCSRFFailed, http.StatusForbidden, "csrf_failed", "the CSRF check failed"},
	{ErrPermissionDenied, http.StatusForbidden, "permission_denied", "you do not have permission to do this"},
	{ErrNotFound, http.StatusNotFound, "not_found", "not found"},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint does not serve this method"},
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large"},
	{ErrTooManyRequests, http.StatusTooManyRequests, "too_many_requests", "too many failed attempts; try again later"},
	{ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "the service is unavailable; try again shortly"},
	{ErrServiceUnauthorized, http.StatusUnauthorized, "service_unauthorized", "a valid service credential is required"},
	{ErrRemoteTimeout, http.StatusGatewayTimeout, "remote_unavailable", "the auth service did not answer in time"},
	{ErrRemoteBadAnswer, http.StatusBadGateway, "remote_unavailable", "the auth service answered with an error"},
	{ErrRemoteUnavailable, http.StatusServiceUnavailable, "remote_unavailable", "the auth service is unavailable; try again shortly"},
}

// internalError is the answer for anything outside the table: a database
// that went away, a subscriber's bug. Its details go to the log, never to
// the client.
var internalError = errorCode{nil, http.StatusInternalServerError, "internal_error", "internal error"}

// classify finds err's row in the table.
func classify(err error) errorCode {
	if errors.Is(err, users.ErrInvalidCredentials) {
		err = ErrInvalidCredentials
	}
	if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrRemoteUnavailable) && unavailable(err) {
		err = ErrUnavailable
	}
	for _, row := range errorCodes {
		if errors.Is(err, row.err) {
			return row
		}
	}
	return internalError
}

// detailed is an error whose message for the client is more precise than its
// code's default ("username is required"). The detail is written by ginjwt,
// never copied from the request.
type detailed struct {
	sentinel error
	detail   string
}

func (e *detailed) Error() string { return e.sentinel.Error() + ": " + e.detail }
func (e *detailed) Unwrap() error { return e.sentinel }

// withDetail wraps sentinel with a message for the client.
func withDetail(sentinel error, detail string) error {
	return &detailed{sentinel: sentinel, detail: detail}
}

// ErrorOfCode returns the error whose stable code is code (the "error" of
// an answer: "invalid_credentials" gives ErrInvalidCredentials), or nil for
// a code ginjwt does not know. Services relaying another ginjwt's answers
// use it.
func ErrorOfCode(code string) error {
	for _, row := range errorCodes {
		if row.code == code {
			return row.err
		}
	}
	return nil
}

// StatusOf returns the HTTP status and the stable code that err is answered
// with: for example 401 and "token_expired" for an error wrapping
// [ErrTokenExpired]. Errors ginjwt does not know are 500 "internal_error".
func StatusOf(err error) (status int, code string) {
	row := classify(err)
	return row.status, row.code
}

// AbortWithError answers the request with err's status and JSON error body
// and aborts the handler chain. Applications' own handlers may use it so
// their errors look like ginjwt's. Errors ginjwt does not know are logged by
// the caller's gin error log and answered with a bare 500.
func AbortWithError(c *gin.Context, err error) {
	row := classify(err)
	msg := row.message
	var d *detailed
	if errors.As(err, &d) && row.err != nil {
		msg = d.detail
	}
	if row.err == nil {
		_ = c.Error(err) // visible to gin's logger and the application's error middleware
	}
	if row.err == ErrServiceUnauthorized {
		c.Header("WWW-Authenticate", "Service")
	} else if row.status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		if row.err == ErrTokenMissing || row.err == ErrInvalidCredentials {
			c.Header("WWW-Authenticate", "Bearer")
		}
	}
	if row.status == http.StatusServiceUnavailable || row.status == http.StatusGatewayTimeout {
		c.Header("Retry-After", retryAfterUnavailable)
	}
	c.AbortWithStatusJSON(row.status, ErrorBody{Error: row.code, Message: msg})
}

// retryAfterUnavailable is the Retry-After of a 503, in seconds: outages
// ginjwt sees heal within a second of their cause going away.
const retryAfterUnavailable = "1"

// unavailable reports whether err means a dependency could not serve the
// request for now: the database is down, read-only or full, or no hashing
// slot freed up in time. Such errors are answered 503, not 500.
func unavailable(err error) bool {
	return errors.Is(err, users.ErrBusy) || dbfault.Unavailable(err)
}

// tokenError reports whether err is about the token presented (missing,
// invalid, expired, not yet valid, revoked, of the wrong type).
func tokenError(err error) bool {
	for _, e := range []error{ErrTokenMissing, ErrTokenInvalid, ErrTokenExpired, ErrTokenNotYetValid, ErrTokenRevoked, ErrTokenTypeInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
