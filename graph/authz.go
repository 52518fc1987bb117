package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// directives are the schema's authorization directives, one implementation
// each, deciding through the service (eventsvc.Service.Authorized, MaySee):
// the rules are read in schema.graphqls and decided in one place. With
// authorization off (AUTH_MODE=off) every directive lets everything pass.
// With it on, an answer a directive decided on depends on who asked: it is
// made private, so that neither a shared HTTP cache nor the response cache
// hands one caller's answer to another, whatever @cacheControl says.
func directives(svc *eventsvc.Service) DirectiveRoot {
	personal := func(ctx context.Context) {
		if svc.AuthorizationEnabled() {
			httpcache.PolicyFrom(ctx).MakePrivate()
		}
	}
	return DirectiveRoot{
		Authenticated: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			personal(ctx)
			if svc.AuthorizationEnabled() && !identity.From(ctx).Authenticated() {
				return nil, &gqlerror.Error{Message: "this field needs an authenticated caller (a valid bearer token)",
					Extensions: map[string]any{"code": middleware.CodeUnauthenticated}}
			}
			return next(ctx)
		},
		RequiresScopes: func(ctx context.Context, _ any, next graphql.Resolver, scopes [][]string) (any, error) {
			personal(ctx)
			if !svc.Authorized(ctx, scopes) {
				return nil, &eventsvc.ForbiddenError{Reason: fmt.Sprintf("this field needs the scopes %v", scopes)}
			}
			return next(ctx)
		},
		OwnerOrAdmin: func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
			personal(ctx)
			u, ok := obj.(*eventapi.User)
			if !ok || !svc.MaySee(ctx, u.ID) {
				return nil, &eventsvc.ForbiddenError{Reason: "only the user it belongs to and admins may see this field"}
			}
			return next(ctx)
		},
	}
}
