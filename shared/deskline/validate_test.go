package deskline_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
)

// checkInvalid fails unless err is an EINVALID *deskline.Error about field
// with exactly message; with an empty message it wants a nil error.
func checkInvalid(t *testing.T, err error, field, message string) {
	t.Helper()
	if message == "" {
		if err != nil {
			t.Fatalf("got error %v, want nil", err)
		}
		return
	}
	var de *deskline.Error
	if !errors.As(err, &de) {
		t.Fatalf("got error %v (%T), want *deskline.Error", err, err)
	}
	if de.Code != deskline.EINVALID {
		t.Errorf("got code %q, want %q", de.Code, deskline.EINVALID)
	}
	if de.Field != field {
		t.Errorf("got field %q, want %q", de.Field, field)
	}
	if de.Message != message {
		t.Errorf("got message %q, want %q", de.Message, message)
	}
}

func TestValidateUsername(t *testing.T) {
	const (
		required = "Username is required"
		length   = "Username must be between 3 and 50 characters"
		alphabet = "Username may contain only letters, digits, '.', '_' and '-'"
	)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", required},
		{"only spaces", "   ", required},
		{"tabs and newlines", "\t\n", required},
		{"too short", "ab", length},
		{"shortest", "abc", ""},
		{"longest", strings.Repeat("a", 50), ""},
		{"too long", strings.Repeat("a", 51), length},
		{"length counts runes not bytes", "äöü", ""},
		{"51 multi-byte runes", strings.Repeat("ä", 51), length},
		{"all allowed punctuation", "john.doe_1-x", ""},
		{"digits only", "12345", ""},
		{"inner space", "john doe", alphabet},
		{"leading space", " john", alphabet},
		{"at sign", "john@doe", alphabet},
		{"slash", "a/b/c", alphabet},
		{"emoji", "john😀", alphabet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, deskline.ValidateUsername(tt.in), "username", tt.want)
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	const (
		required = "Email is required"
		invalid  = "Invalid email format"
	)
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"plain", "alice@example.com", "alice@example.com", ""},
		{"lower-cased", "Alice.Smith@Example.COM", "alice.smith@example.com", ""},
		{"trimmed", "  bob@example.com \n", "bob@example.com", ""},
		{"plus tag and subdomain", "a+tag@mail.example.org", "a+tag@mail.example.org", ""},
		{"empty", "", "", required},
		{"blank", "   ", "", required},
		{"no at", "bob", "", invalid},
		{"no local part", "@example.com", "", invalid},
		{"no domain", "bob@", "", invalid},
		{"double at", "bob@@example.com", "", invalid},
		{"dotless domain", "bob@localhost", "", invalid},
		{"display name", "Bob <bob@example.com>", "", invalid},
		{"angle brackets", "<bob@example.com>", "", invalid},
		{"two addresses", "a@example.com, b@example.com", "", invalid},
		{"inner space", "bob smith@example.com", "", invalid},
		{"254 characters", "a@" + strings.Repeat("b", 248) + ".com", "a@" + strings.Repeat("b", 248) + ".com", ""},
		{"255 characters", "a@" + strings.Repeat("b", 249) + ".com", "", invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deskline.NormalizeEmail(tt.in)
			checkInvalid(t, err, "email", tt.wantErr)
			if got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	const (
		required = "Password is required"
		tooLong  = "Password must be at most 72 bytes long"
		weak     = "Password must be at least 8 characters long and contain a letter and a digit"
	)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", required},
		{"shortest", "abcdefg1", ""},
		{"seven characters", "abcdef1", weak},
		{"no digit", "abcdefgh", weak},
		{"no letter", "12345678", weak},
		{"only symbols", "!!!!!!!!", weak},
		{"spaces count", "a b c d 1", ""},
		{"72 bytes", strings.Repeat("a", 71) + "1", ""},
		{"73 bytes", strings.Repeat("a", 72) + "1", tooLong},
		// 25 three-byte runes are 75 bytes: bcrypt would truncate them.
		{"few runes but too many bytes", strings.Repeat("語", 24) + "1", tooLong},
		// 7 runes, 11 bytes: length is counted in characters.
		{"short in runes, long in bytes", "ä1ä1ä1ä", weak},
		{"non-ASCII letters", "пароль12", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The field is the caller's: the same rule checks password and newPassword.
			checkInvalid(t, deskline.ValidatePassword("newPassword", tt.in), "newPassword", tt.want)
		})
	}
}

func TestValidateMembership(t *testing.T) {
	const dep = "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9TW"
	tests := []struct {
		name       string
		role       deskline.Role
		department string
		wantField  string
		want       string
	}{
		{"admin without department", deskline.RoleAdmin, "", "", ""},
		{"employee with department", deskline.RoleEmployee, dep, "", ""},
		{"department head with department", deskline.RoleDepartmentHead, dep, "", ""},
		{"empty role", "", dep, "role", "Invalid role"},
		{"unknown role", "superuser", dep, "role", "Invalid role"},
		{"role is case-sensitive", "Admin", "", "role", "Invalid role"},
		{"admin with department", deskline.RoleAdmin, dep, "departmentId", "Admin should not have a department"},
		{"employee without department", deskline.RoleEmployee, "", "departmentId", "Department is required for this role"},
		{"department head without department", deskline.RoleDepartmentHead, "", "departmentId", "Department is required for this role"},
		{"user id as department", deskline.RoleEmployee, "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", "departmentId", "Department ID must be a valid department id (DEP-...)"},
		{"lower-case department id", deskline.RoleEmployee, "dep-abcdef", "departmentId", "Department ID must be a valid department id (DEP-...)"},
		{"department code instead of id", deskline.RoleEmployee, "IT", "departmentId", "Department ID must be a valid department id (DEP-...)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, deskline.ValidateMembership(tt.role, tt.department), tt.wantField, tt.want)
		})
	}
}

func TestValidateDepartmentName(t *testing.T) {
	const (
		required = "Department name is required"
		length   = "Department name must be between 2 and 100 characters"
	)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", required},
		{"blank", "  \t ", required},
		{"one character", "A", length},
		{"one character padded", "  A  ", length},
		{"two characters", "IT", ""},
		{"100 characters", strings.Repeat("a", 100), ""},
		{"101 characters", strings.Repeat("a", 101), length},
		{"100 multi-byte runes", strings.Repeat("é", 100), ""},
		{"padding is not counted", "  " + strings.Repeat("a", 100) + "  ", ""},
		{"inner spaces", "Human Resources", ""},
		{"inner tab", "Human\tResources", "Department name must not contain control characters"},
		{"newline", "IT\nSupport", "Department name must not contain control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, deskline.ValidateDepartmentName(tt.in), "name", tt.want)
		})
	}
}

func TestValidateDepartmentDescription(t *testing.T) {
	const tooLong = "Description must be at most 500 characters"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"500 characters", strings.Repeat("x", 500), ""},
		{"501 characters", strings.Repeat("x", 501), tooLong},
		{"500 multi-byte runes", strings.Repeat("ü", 500), ""},
		{"501 multi-byte runes", strings.Repeat("ü", 501), tooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, deskline.ValidateDepartmentDescription(tt.in), "description", tt.want)
		})
	}
}

func TestValidateDepartmentCode(t *testing.T) {
	const (
		length   = "Department code must be 2 to 10 characters"
		alphabet = "Department code must be upper-case letters and digits, starting with a letter"
	)
	tests := []struct {
		name, in, want string
	}{
		{"two letters", "IT", ""},
		{"three letters", "FIN", ""},
		{"ten characters", "ABCDEFGHIJ", ""},
		{"letters then digits", "OPS2", ""},
		{"empty", "", length},
		{"one letter", "A", length},
		{"eleven characters", "ABCDEFGHIJK", length},
		{"lower case", "it", alphabet},
		{"mixed case", "It", alphabet},
		{"starts with digit", "1T", alphabet},
		{"hyphen", "IT-1", alphabet},
		{"space", "I T", alphabet},
		{"non-ASCII letter", "ÄB", alphabet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, deskline.ValidateDepartmentCode(tt.in), "code", tt.want)
		})
	}
}

func TestDeriveDepartmentCode(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Information Technology", "IT"},
		{"Human Resources", "HR"},
		{"Finance", "FIN"},
		{"Legal", "LEG"},
		{"QA", "QA"},
		{"it", "IT"},
		{"  human   resources  ", "HR"},
		{"Research & Development", "RD"},
		{"R&D", "RD"},
		{"Sales/Marketing", "SM"},
		{"Team 1 Support", "T1S"},
		// A word starting with a digit gives no initial; one initial is too
		// few, so the letters of the whole name are used instead.
		{"3D Printing", "DPR"},
		{"Café Ops", "CO"},
		{"Ünïcode Straße", "NCO"},
		{"A B C D E F G H I J K L", "ABCDEFGHIJ"},
		{"A", "DEP"},
		{"", "DEP"},
		{"   ", "DEP"},
		{"!!!", "DEP"},
		{"42", "DEP"},
		{"日本語", "DEP"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := deskline.DeriveDepartmentCode(tt.in)
			if got != tt.want {
				t.Errorf("DeriveDepartmentCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// Whatever is derived must be accepted as a code.
			if err := deskline.ValidateDepartmentCode(got); err != nil {
				t.Errorf("derived code %q is invalid: %v", got, err)
			}
		})
	}
}

func TestRoleAndStatusValid(t *testing.T) {
	roles := []struct {
		in   deskline.Role
		want bool
	}{
		{deskline.RoleAdmin, true}, {deskline.RoleDepartmentHead, true}, {deskline.RoleEmployee, true},
		{"", false}, {"ADMIN", false}, {"manager", false},
	}
	for _, tt := range roles {
		t.Run("role "+string(tt.in), func(t *testing.T) {
			if got := tt.in.Valid(); got != tt.want {
				t.Errorf("Role(%q).Valid() = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	statuses := []struct {
		in   deskline.UserStatus
		want bool
	}{
		{deskline.StatusPending, true}, {deskline.StatusApproved, true}, {deskline.StatusRejected, true},
		{"", false}, {"active", false}, {"Approved", false},
	}
	for _, tt := range statuses {
		t.Run("status "+string(tt.in), func(t *testing.T) {
			if got := tt.in.Valid(); got != tt.want {
				t.Errorf("UserStatus(%q).Valid() = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	for _, r := range deskline.Roles {
		if !r.Valid() {
			t.Errorf("Roles lists invalid role %q", r)
		}
	}
}

func TestUserJSONNeverCarriesPasswordHash(t *testing.T) {
	const hash = "$2a$04$secret-hash-value"
	b, err := json.Marshal(deskline.User{ID: "USR-ABCDE", PasswordHash: hash})
	if err != nil {
		t.Fatalf("marshal user: %v", err)
	}
	for _, leak := range []string{hash, "password", "Password"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("user JSON %s contains %q", b, leak)
		}
	}
}
