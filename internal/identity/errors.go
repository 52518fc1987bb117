package identity

import (
	"errors"
	"strings"
)

// Kind is the class of an authentication failure, which decides the answer:
// every kind is a 401, and Missing is the only one without error="invalid_token".
type Kind uint8

const (
	// Missing: no credentials where the mode requires them.
	Missing Kind = iota + 1
	// Invalid: credentials that cannot be accepted — a malformed header or
	// token, a bad signature, an algorithm not accepted or not matching its
	// key, a key id unknown even after a refresh, the wrong issuer or
	// audience, a token not valid yet or too large, an unusable user id.
	Invalid
	// Expired: a well-formed, correctly signed token past its exp (and the
	// leeway). Clients that can refresh a token branch on this one.
	Expired
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Missing:
		return "missing"
	case Invalid:
		return "invalid"
	case Expired:
		return "expired"
	}
	return "unknown"
}

// Error is why a caller is not authenticated. Description is a fixed
// sentence meant for the caller: it never holds the token, a claim's value
// or key material, so it may be logged and answered as it is.
type Error struct {
	Kind        Kind
	Description string
}

func (e *Error) Error() string { return "authentication " + e.Kind.String() + ": " + e.Description }

func fail(kind Kind, description string) *Error { return &Error{Kind: kind, Description: description} }

// Realm is the realm of the challenge a caller without credentials gets.
const Realm = "eventgw"

// Challenge returns the WWW-Authenticate value (RFC 6750, section 3) for
// err, which a 401 carries: `Bearer realm="eventgw"` when credentials are
// missing (or err is nil), `Bearer error="invalid_token",
// error_description="…"` when they were refused. The description is quoted
// safely: characters RFC 6750 does not allow in it are replaced.
func Challenge(err error) string {
	var e *Error
	switch {
	case err == nil:
		return `Bearer realm="` + Realm + `"`
	case !errors.As(err, &e):
		return `Bearer error="invalid_token"`
	case e.Kind == Missing:
		return `Bearer realm="` + Realm + `"`
	}
	return `Bearer error="invalid_token", error_description="` + quotable(e.Description) + `"`
}

// quotable keeps the characters RFC 6750 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E) and replaces the others with '?', so no
// description can break out of its quotes or split the header.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
