package eventsvc

import (
	"context"
	"fmt"

	"github.com/eventms/gateway/internal/identity"
)

// ForbiddenError says the caller may not do what it asked; nothing was
// done. Reason is safe to show the caller.
type ForbiddenError struct {
	Reason string
}

func (e *ForbiddenError) Error() string { return "forbidden: " + e.Reason }

// Authorization is who may do what, when authentication is on.
//
//	Enabled     [false]          off: everybody may do everything (AUTH_MODE=off)
//	AdminScope  [events:admin]   the scope that may act for any user (AUTH_ADMIN_SCOPE)
type Authorization struct {
	Enabled    bool
	AdminScope string
}

// mayActFor reports, as an error, whether the caller of ctx may act for
// the user userID: itself, or any user with the admin scope.
func (s *Service) mayActFor(ctx context.Context, userID string) error {
	if !s.authz.Enabled {
		return nil
	}
	id := identity.From(ctx)
	switch {
	case !id.Authenticated():
		return &ForbiddenError{Reason: "adding an event needs a signed-in caller"}
	case id.UserID == userID, id.HasScope(s.authz.AdminScope):
		return nil
	}
	return &ForbiddenError{Reason: fmt.Sprintf("a caller may add events for its own user id only (or with the %s scope)", s.authz.AdminScope)}
}

// MaySee reports whether the caller of ctx may see user userID's personal
// fields (e-mail): the user itself, an admin, or everybody with
// authorization off.
func (s *Service) MaySee(ctx context.Context, userID string) bool {
	if !s.AuthorizationEnabled() {
		return true
	}
	id := identity.From(ctx)
	return id.Authenticated() && (id.UserID == userID || id.HasScope(s.authz.AdminScope))
}

// Authorized reports whether the caller of ctx holds every scope of one of
// the sets (an empty list of sets holds for every authenticated caller);
// with authorization off everybody does.
func (s *Service) Authorized(ctx context.Context, anyOf [][]string) bool {
	if !s.AuthorizationEnabled() {
		return true
	}
	id := identity.From(ctx)
	if !id.Authenticated() {
		return false
	}
	if len(anyOf) == 0 {
		return true
	}
	for _, set := range anyOf {
		all := true
		for _, scope := range set {
			all = all && id.HasScope(scope)
		}
		if all {
			return true
		}
	}
	return false
}

// AuthorizationEnabled reports whether callers are told apart (never for a
// nil Service, which a schema built only for its shape has).
func (s *Service) AuthorizationEnabled() bool { return s != nil && s.authz.Enabled }
