package deskline_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
)

func TestErrorCodeAndMessage(t *testing.T) {
	const secret = "dial tcp 10.0.0.7:8000: password=hunter2"
	notFound := deskline.Errorf(deskline.ENOTFOUND, "User %s not found", "USR-ABCDE")
	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
	}{
		{"nil", nil, "", ""},
		{"plain error", errors.New(secret), deskline.EINTERNAL, "Internal error"},
		{"wrapped plain error", fmt.Errorf("get user: %w", errors.New(secret)), deskline.EINTERNAL, "Internal error"},
		{"invalid", deskline.Invalid("email", "Invalid email format"), deskline.EINVALID, "Invalid email format"},
		{"formatted", notFound, deskline.ENOTFOUND, "User USR-ABCDE not found"},
		{"wrapped once", fmt.Errorf("get user: %w", notFound), deskline.ENOTFOUND, "User USR-ABCDE not found"},
		{"wrapped twice", fmt.Errorf("handler: %w", fmt.Errorf("store: %w", notFound)), deskline.ENOTFOUND, "User USR-ABCDE not found"},
		{"joined with a plain error", errors.Join(errors.New(secret), notFound), deskline.ENOTFOUND, "User USR-ABCDE not found"},
		{"first *Error in the chain wins", fmt.Errorf("%w: %w", deskline.Errorf(deskline.ECONFLICT, "Email taken"), notFound), deskline.ECONFLICT, "Email taken"},
		{"internal *Error hides its message", &deskline.Error{Code: deskline.EINTERNAL, Message: secret}, deskline.EINTERNAL, "Internal error"},
		{"wrapped internal *Error hides its message", fmt.Errorf("x: %w", deskline.Errorf(deskline.EINTERNAL, "%s", secret)), deskline.EINTERNAL, "Internal error"},
		{"too many", &deskline.Error{Code: deskline.ETOOMANY, Message: "Too many attempts", RetryAfter: 60}, deskline.ETOOMANY, "Too many attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deskline.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode() = %q, want %q", got, tt.wantCode)
			}
			got := deskline.ErrorMessage(tt.err)
			if got != tt.wantMessage {
				t.Errorf("ErrorMessage() = %q, want %q", got, tt.wantMessage)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("ErrorMessage() = %q leaks the cause", got)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *deskline.Error
		want string
	}{
		{"with field", deskline.Invalid("email", "Invalid email format"), "deskline error: code=invalid field=email message=Invalid email format"},
		{"without field", deskline.Errorf(deskline.ECONFLICT, "Email %q taken", "a@b.c"), `deskline error: code=conflict message=Email "a@b.c" taken`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
