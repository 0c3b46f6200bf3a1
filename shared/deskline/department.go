package deskline

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Department groups users; tickets and tasks belong to one.
type Department struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Code        string    `json:"code"`
	Description string    `json:"description"`
	IsActive    bool      `json:"isActive"`
	MemberCount int       `json:"memberCount"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// ValidateDepartmentName checks a department name (2–100 characters).
func ValidateDepartmentName(name string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	switch {
	case n == 0:
		return Invalid("name", "Department name is required")
	case n < 2 || n > 100:
		return Invalid("name", "Department name must be between 2 and 100 characters")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return Invalid("name", "Department name must not contain control characters")
		}
	}
	return nil
}

// ValidateDepartmentDescription checks a description (at most 500 characters).
func ValidateDepartmentDescription(d string) error {
	if utf8.RuneCountInString(d) > 500 {
		return Invalid("description", "Description must be at most 500 characters")
	}
	return nil
}

// ValidateDepartmentCode checks a department code: 2–10 upper-case letters
// or digits starting with a letter. Codes prefix human ticket keys (IT-42).
func ValidateDepartmentCode(code string) error {
	if len(code) < 2 || len(code) > 10 {
		return Invalid("code", "Department code must be 2 to 10 characters")
	}
	for i, r := range code {
		if !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return Invalid("code", "Department code must be upper-case letters and digits, starting with a letter")
		}
	}
	return nil
}

// DeriveDepartmentCode proposes a code from a name: the initials of a
// multi-word name ("Human Resources" → "HR"), or the first letters of a single
// word ("Finance" → "FIN"). The result may still collide with another code.
func DeriveDepartmentCode(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var b strings.Builder
	if len(words) > 1 {
		for _, w := range words {
			r, _ := utf8.DecodeRuneInString(w)
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || (b.Len() > 0 && unicode.IsDigit(r))) {
				b.WriteRune(unicode.ToUpper(r))
			}
			if b.Len() == 10 {
				break
			}
		}
	}
	if b.Len() < 2 && len(words) > 0 {
		b.Reset()
		for _, r := range strings.Join(words, "") {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || (b.Len() > 0 && unicode.IsDigit(r))) {
				b.WriteRune(unicode.ToUpper(r))
			}
			if b.Len() == 3 {
				break
			}
		}
	}
	if b.Len() < 2 {
		return "DEP"
	}
	return b.String()
}
