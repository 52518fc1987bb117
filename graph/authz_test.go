package graph_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/servicetest"
)

// asCaller is a caller layer that believes the test's X-Test-User and
// X-Test-Scopes headers: the doors' rules are tested here, the tokens in
// internal/identity and through the server.
func asCaller() *middleware.Caller {
	return &middleware.Caller{Authenticate: func(r *http.Request) (identity.Identity, error) {
		user := r.Header.Get("X-Test-User")
		if user == "" {
			return identity.Identity{Anonymous: true}, nil
		}
		return identity.Identity{UserID: user, Subject: user, Scopes: strings.Fields(r.Header.Get("X-Test-Scopes")),
			ExpiresAt: time.Now().Add(time.Hour)}, nil
	}}
}

func authGateway(t *testing.T, enabled bool) *graphtest.Gateway {
	return graphtest.New(t, eventsim.Config{}, nil,
		graphtest.WithCallers(eventsvc.Authorization{Enabled: enabled, AdminScope: "events:admin"}, asCaller()))
}

// queryAs posts query as user (with scopes), and decodes the answer.
func queryAs(t *testing.T, g *graphtest.Gateway, user, scopes, query string, vars map[string]any) servicetest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_, raw := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", string(body), map[string]string{"X-Test-User": user, "X-Test-Scopes": scopes})
	var out servicetest.Response
	servicetest.MustUnmarshal(t, []byte(raw), &out)
	return out
}

// A user's e-mail is visible to that user and to admins; for anybody else
// it is null with a FORBIDDEN error on its path, and the rest resolves.
func TestEmailIsVisibleToItsUserAndAdminsOnly(t *testing.T) {
	g := authGateway(t, true)
	const q = `{ a: user(id: "1") { id userName email } b: user(id: "3") { id email } }`
	tests := []struct {
		name, user, scopes   string
		wantA, wantB         string // "" for null
		wantForbiddenAtPaths []string
	}{
		{"user 3", "3", "", "", "bob@example.com", []string{"a.email"}},
		{"user 1", "1", "", "john@example.com", "", []string{"b.email"}},
		{"an admin", "2", "events:admin", "john@example.com", "bob@example.com", nil},
		{"anonymous", "", "", "", "", []string{"a.email", "b.email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := queryAs(t, g, tt.user, tt.scopes, q, nil)
			var data struct {
				A, B struct{ ID, UserName, Email *string }
			}
			servicetest.MustUnmarshal(t, res.Data, &data)
			if data.A.ID == nil || *data.A.ID != "1" || data.A.UserName == nil || *data.A.UserName != "john_doe" {
				t.Errorf("the rest of the answer did not resolve: %s", res.Data)
			}
			for _, c := range []struct {
				got  *string
				want string
			}{{data.A.Email, tt.wantA}, {data.B.Email, tt.wantB}} {
				if (c.want == "") != (c.got == nil) || (c.got != nil && *c.got != c.want) {
					t.Errorf("email %v; want %q (data %s)", c.got, c.want, res.Data)
				}
			}
			var forbidden []string
			for _, e := range res.Errors {
				if e.Extensions["code"] != "FORBIDDEN" {
					t.Errorf("error %+v; want FORBIDDEN only", e)
				}
				forbidden = append(forbidden, pathOf(e.Path))
			}
			slices.Sort(forbidden) // sibling fields resolve concurrently: errors come in any order
			if strings.Join(forbidden, " ") != strings.Join(tt.wantForbiddenAtPaths, " ") {
				t.Errorf("FORBIDDEN at %v; want %v", forbidden, tt.wantForbiddenAtPaths)
			}
		})
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// pathOf writes an error's path as "a.email".
func pathOf(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = strings.Trim(jsonOf(p), `"`)
	}
	return strings.Join(parts, ".")
}

// addEvent is allowed for one's own user id, or with the admin scope;
// otherwise FORBIDDEN and nothing is stored. Anonymous callers (optional
// authentication without a token) are UNAUTHENTICATED.
func TestAddEventOwnership(t *testing.T) {
	g := authGateway(t, true)
	const m = `mutation($u: ID!) { addEvent(input: {name: "Party", userId: $u}) { __typename ... on AddEventSuccess { event { id userId } } } }`
	tests := []struct {
		name, user, scopes, forUser string
		want                        string // __typename or error code
	}{
		{"for itself", "3", "", "3", "AddEventSuccess"},
		{"for another user", "3", "", "1", "FORBIDDEN"},
		{"an admin for another user", "2", "events:admin", "1", "AddEventSuccess"},
		{"another scope is no admin", "2", "events:read", "1", "FORBIDDEN"},
		{"anonymous", "", "", "1", "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(g.Sim.UserEvents(tt.forUser))
			res := queryAs(t, g, tt.user, tt.scopes, m, map[string]any{"u": tt.forUser})
			got := ""
			if len(res.Errors) > 0 {
				got, _ = res.Errors[0].Extensions["code"].(string)
				if p := jsonOf(res.Errors[0].Path); p != `["addEvent"]` {
					t.Errorf("error path %s; want [\"addEvent\"]", p)
				}
			} else {
				var d struct {
					AddEvent struct {
						Typename string `json:"__typename"`
					}
				}
				servicetest.MustUnmarshal(t, res.Data, &d)
				got = d.AddEvent.Typename
			}
			if got != tt.want {
				t.Fatalf("%s (%s); want %s", got, res.Data, tt.want)
			}
			stored := len(g.Sim.UserEvents(tt.forUser)) - before
			if (tt.want == "AddEventSuccess") != (stored == 1) {
				t.Errorf("%d events stored upstream", stored)
			}
		})
	}
}

// With authorization off (AUTH_MODE=off) the rules do not apply: today's
// behaviour.
func TestAuthorizationOffChangesNothing(t *testing.T) {
	g := authGateway(t, false)
	res := queryAs(t, g, "", "", `{ user(id: "1") { email } }`, nil)
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), "john@example.com") {
		t.Errorf("%s %v; want the e-mail", res.Data, res.Errors)
	}
	add := g.AddEvent(t, map[string]any{"name": "x", "userId": "1"}, nil)
	if add.Typename != "AddEventSuccess" {
		t.Errorf("anonymous addEvent with authorization off: %+v", add)
	}
}

// @requiresScopes: any one of the sets, each set whole.
func TestRequiresScopes(t *testing.T) {
	env := servicetest.New(t, servicetest.Options{Authorization: eventsvc.Authorization{Enabled: true, AdminScope: "events:admin"}})
	sets := [][]string{{"a", "b"}, {"c"}}
	for _, tt := range []struct {
		scopes []string
		want   bool
	}{
		{nil, false}, {[]string{"a"}, false}, {[]string{"a", "b"}, true}, {[]string{"c"}, true}, {[]string{"b", "c"}, true},
	} {
		ctx := identity.WithIdentity(t.Context(), identity.Identity{UserID: "1", Scopes: tt.scopes})
		if got := env.Service.Authorized(ctx, sets); got != tt.want {
			t.Errorf("scopes %v: %v; want %v", tt.scopes, got, tt.want)
		}
	}
	if env.Service.Authorized(t.Context(), nil) {
		t.Error("an anonymous caller is authorized")
	}
}
