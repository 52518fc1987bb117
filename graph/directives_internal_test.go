package graph

import (
	"context"
	"testing"

	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Whatever a directive decides, with authorization on the answer depends
// on who asked: it is made private (no shared cache, the response cache
// per caller), allowed or not; with authorization off nothing changes.
func TestAuthorizationDirectivesMakeTheAnswerPrivate(t *testing.T) {
	next := func(context.Context) (any, error) { return "ok", nil }
	for _, enabled := range []bool{true, false} {
		env := servicetest.New(t, servicetest.Options{Authorization: eventsvc.Authorization{Enabled: enabled, AdminScope: "events:admin"}})
		d := directives(env.Service)
		for _, caller := range []identity.Identity{{UserID: "1", Scopes: []string{"events:admin", "a"}}, {Anonymous: true}} {
			for name, run := range map[string]func(context.Context) (any, error){
				"authenticated":  func(ctx context.Context) (any, error) { return d.Authenticated(ctx, nil, next) },
				"requiresScopes": func(ctx context.Context) (any, error) { return d.RequiresScopes(ctx, nil, next, [][]string{{"a"}}) },
				"ownerOrAdmin":   func(ctx context.Context) (any, error) { return d.OwnerOrAdmin(ctx, &eventapi.User{ID: "1"}, next) },
			} {
				p := &httpcache.Policy{}
				ctx := httpcache.WithPolicy(identity.WithIdentity(t.Context(), caller), p)
				_, err := run(ctx)
				if p.Private() != enabled {
					t.Errorf("%s, authorization %v, caller %+v (err %v): private %v; want %v", name, enabled, caller.UserID, err, p.Private(), enabled)
				}
				if !enabled && err != nil {
					t.Errorf("%s with authorization off: %v; want it to pass", name, err)
				}
			}
		}
	}
}
