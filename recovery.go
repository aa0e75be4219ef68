// Package recovery holds the words of the mis-deposit recovery engine that
// every package shares: what a node says of a transaction and its
// transfers (deposit.go), the categories of what happened (category.go),
// the statuses of a case (status.go), staff roles and sign-off teams
// (role.go), and the errors with their stable codes (this file). Every
// other package imports it; it imports none of them.
package recovery

import (
	"errors"
	"fmt"
)

// Error codes are stable strings that clients match on. The API maps each
// code to one HTTP status (see api.ErrorStatus).
const (
	EInvalid      = "invalid"   // the caller sent something malformed
	ENotFound     = "not_found" // the thing asked for does not exist
	EConflict     = "conflict"  // the request clashes with the current state
	EUnauthorized = "unauthorized"
	EForbidden    = "forbidden"
	EUnavailable  = "unavailable" // a dependency (node, Temporal) did not answer; retry later
	ETooLarge     = "too_large"
	ERateLimited  = "rate_limited" // too many requests; retry after a while
	EInternal     = "internal"
)

// InvalidInput is the type of the non-retryable application error with
// which a workflow or an activity refuses malformed input: Temporal does not
// retry it, and the API answers it as EInvalid.
const InvalidInput = "InvalidInput"

// Error is an error a user or operator can act on: a stable code, a message
// safe to show, and the input field it concerns when there is one.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EInvalid error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EInternal
	}
}

// ErrorMessage returns the user-safe message of err. Internal failures get a
// generic text so that no driver or stack detail leaks to a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
