// Package deskline holds the domain of the help desk: entities, enums,
// validation and the rules of who may do what. It imports nothing from AWS.
package deskline

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in httpapi.StatusOf.
const (
	EINVALID       = "invalid"             // 400: the request is malformed or fails validation
	EUNAUTHORIZED  = "unauthorized"        // 401: no or bad credentials
	EFORBIDDEN     = "forbidden"           // 403: authenticated but not allowed
	ENOTFOUND      = "not_found"           // 404: no such resource (or not visible to the caller)
	ECONFLICT      = "conflict"            // 409: the request conflicts with current state
	EGONE          = "gone"                // 410: the resource existed but is no longer available
	EPRECONDITION  = "precondition_failed" // 412: If-Match did not match
	EUNPROCESSABLE = "unprocessable"       // 422: well-formed but semantically refused
	ETOOMANY       = "too_many_requests"   // 429: rate limited
	EINTERNAL      = "internal"            // 500: a bug or a dependency failed
)

// Error is the one error type the application returns to callers. Message is
// safe to show to clients; anything else stays in wrapped causes and logs.
type Error struct {
	Code    string
	Message string
	// Field names the request field that failed validation, when there is one.
	Field string
	// RetryAfter is set, in seconds, on ETOOMANY errors.
	RetryAfter int
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("deskline error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("deskline error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about one field.
func Invalid(field, message string) *Error {
	return &Error{Code: EINVALID, Field: field, Message: message}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err. Internal errors never
// expose their cause.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Internal error"
}
