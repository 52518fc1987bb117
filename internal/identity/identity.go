package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Identity is who is calling: the user a verified token names, or nobody.
// The zero value is not a caller; use From, which answers Anonymous when a
// request carries no identity.
type Identity struct {
	// UserID is the Event API user id: the value of the configured user
	// claim (Config.UserClaim, default sub), as a string even when the
	// token carries a number.
	UserID string
	// Scopes are the token's scopes, from its scope claim (space-separated)
	// and its scp claim (an array, or space-separated), without duplicates.
	Scopes []string
	// Subject is the token's sub claim, which may differ from UserID when
	// the user claim is another one.
	Subject string
	// ExpiresAt is when the token stops being accepted (its exp claim);
	// a subscription opened with it ends then.
	ExpiresAt time.Time
	// Anonymous is true when the caller sent no token (and the mode allowed
	// that); every other field is then empty.
	Anonymous bool

	// token is the verified bearer token, behind a pointer so that printing
	// an Identity (%+v, a log attribute) shows an address, never the token.
	token *bearer
}

type bearer struct{ raw string }

// Token returns the verified bearer token the identity came from, for
// passing it through to the Event API (AUTH_FORWARD=token); empty for an
// anonymous caller. Never log it.
func (id Identity) Token() string {
	if id.token == nil {
		return ""
	}
	return id.token.raw
}

// anonymous is the identity of a caller without a token.
var anonymous = Identity{Anonymous: true}

// Authenticated reports whether id is a verified caller with a user id.
func (id Identity) Authenticated() bool { return !id.Anonymous && id.UserID != "" }

// HasScope reports whether the caller's token grants scope s. An anonymous
// caller has no scopes.
func (id Identity) HasScope(s string) bool {
	return !id.Anonymous && s != "" && slices.Contains(id.Scopes, s)
}

// UserOf returns the user id of ctx's caller and whether a token proved
// it: the key of a per-user budget (ratelimit.CallerKey).
func UserOf(ctx context.Context) (string, bool) {
	id := From(ctx)
	return id.UserID, id.Authenticated()
}

// Privileged returns whether ctx's caller is exempt from the per-caller
// budgets. Only what a token proved counts: adminScope among its scopes,
// or its user id in userIDs.
func Privileged(adminScope string, userIDs []string) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		id := From(ctx)
		return id.Authenticated() && (id.HasScope(adminScope) || slices.Contains(userIDs, id.UserID))
	}
}

type contextKey struct{}

// WithIdentity returns a copy of ctx that carries id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// From returns the identity ctx carries, or the anonymous identity when it
// carries none: code that forgot to authenticate gets the least privilege.
func From(ctx context.Context) Identity {
	if id, ok := ctx.Value(contextKey{}).(Identity); ok {
		return id
	}
	return anonymous
}

// Mode is how a front door treats the Authorization header (AUTH_MODE).
type Mode uint8

const (
	// Off ignores credentials: every caller is anonymous (the behaviour
	// before authentication existed).
	Off Mode = iota
	// Optional accepts callers without a token as anonymous; a token that
	// is sent must be valid.
	Optional
	// Required refuses callers without a valid token.
	Required
)

// ParseMode reads "off", "optional" or "required" (case-insensitive).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off":
		return Off, nil
	case "optional":
		return Optional, nil
	case "required":
		return Required, nil
	}
	return Off, fmt.Errorf("authentication mode %q: want off, optional or required", s)
}

// String returns the mode as ParseMode reads it.
func (m Mode) String() string {
	switch m {
	case Off:
		return "off"
	case Optional:
		return "optional"
	case Required:
		return "required"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}
