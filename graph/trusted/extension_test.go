package trusted_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/transport"
	"github.com/eventms/gateway/graph/trusted"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/servicetest"
)

const (
	graphqlJSON = "application/graphql-response+json"
	unlisted    = `{ users { id email } }`
)

// door is a gqlgen server over the service and a simulator, built as
// graph.NewHandler builds its own (our HTTP transport, the trusted
// documents extension before APQ, the query cache), with what the hooks
// heard.
type door struct {
	*servicetest.Server
	store *trusted.Store
	inner *countingCache

	mu       sync.Mutex
	statuses []trusted.Status
	clients  []string // the client name OnOperation saw, by status
	unlisted []string
	ran      []*ast.QueryDocument // the document each executed operation ran
}

func newDoor(t testing.TB, mode trusted.Mode, allowIntrospection bool) *door {
	t.Helper()
	return newDoorListing(t, mode, allowIntrospection, apolloManifest([2]string{sha(mine), mine}, [2]string{"events-v1", allEvents}))
}

// newDoorListing is newDoor with manifest as its list.
func newDoorListing(t testing.TB, mode trusted.Mode, allowIntrospection bool, manifest string) *door {
	t.Helper()
	d := &door{store: openFiles(t, writeFile(t, t.TempDir(), "manifest.json", manifest)), inner: &countingCache{inner: lru.New[*ast.QueryDocument](100)}}
	env := servicetest.New(t, servicetest.Options{})
	srv := handler.New(graph.NewExecutableSchema(graph.NewConfig(env.Service)))
	srv.AddTransport(transport.HTTP{})
	srv.SetQueryCache(trusted.NewQueryCache(d.store, d.inner))
	if allowIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(trusted.Extension{Store: d.store, Mode: mode, AllowIntrospection: allowIntrospection,
		OnOperation: func(ctx context.Context, s trusted.Status) {
			d.mu.Lock()
			d.statuses = append(d.statuses, s)
			d.clients = append(d.clients, graphql.GetOperationContext(ctx).Headers.Get("apollographql-client-name"))
			d.mu.Unlock()
		},
		OnUnlisted: func(_ context.Context, name string) {
			d.mu.Lock()
			d.unlisted = append(d.unlisted, name)
			d.mu.Unlock()
		},
	})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		d.mu.Lock()
		d.ran = append(d.ran, graphql.GetOperationContext(ctx).Doc)
		d.mu.Unlock()
		return next(ctx)
	})
	d.Server = env.Serve(t, func(r *middleware.Routes) { r.Handle("/graphql", srv) })
	return d
}

// answer is a GraphQL answer with its status.
type answer struct {
	status int
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// String shows the answer as the wire carried it, for failures.
func (a answer) String() string {
	b, _ := json.Marshal(struct {
		Data   json.RawMessage `json:"data,omitempty"`
		Errors any             `json:"errors,omitempty"`
	}{a.Data, a.Errors})
	return fmt.Sprintf("%d %s", a.status, b)
}

func (a answer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

// post sends body as a GraphQL POST accepting accept.
func (d *door) post(t *testing.T, body map[string]any, accept string) answer {
	t.Helper()
	return d.postWith(t, body, map[string]string{"Accept": accept})
}

// postWith sends body as a GraphQL POST with header.
func (d *door) postWith(t *testing.T, body map[string]any, header map[string]string) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, raw := servicetest.Do(t, http.MethodPost, d.URL+"/graphql", "application/json", string(b), header)
	return decode(t, resp, raw)
}

// get sends body's members as GET parameters, objects as JSON.
func (d *door) get(t *testing.T, body map[string]any, accept string) answer {
	t.Helper()
	q := url.Values{}
	for k, v := range body {
		if s, ok := v.(string); ok {
			q.Set(k, s)
			continue
		}
		b, _ := json.Marshal(v)
		q.Set(k, string(b))
	}
	resp, raw := servicetest.Do(t, http.MethodGet, d.URL+"/graphql?"+q.Encode(), "", "", map[string]string{"Accept": accept})
	return decode(t, resp, raw)
}

func decode(t *testing.T, resp *http.Response, raw string) answer {
	t.Helper()
	var a answer
	servicetest.MustUnmarshal(t, []byte(raw), &a)
	a.status = resp.StatusCode
	return a
}

func (d *door) upstreamCalls() int {
	n := 0
	for _, r := range []string{eventsim.RouteGetUsers, eventsim.RouteGetUserByID, eventsim.RouteGetEvents, eventsim.RouteGetEventByID} {
		n += d.Sim.Count(r)
	}
	return n
}

func documentID(id string) map[string]any {
	return map[string]any{"extensions": map[string]any{"documentId": id}}
}

func apq(hash, query string) map[string]any {
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if query != "" {
		body["query"] = query
	}
	return body
}

func TestEnforceRunsListedOperationsOnly(t *testing.T) {
	d := newDoor(t, trusted.Enforce, false)
	type send func(*testing.T, map[string]any, string) answer
	tests := []struct {
		name   string
		send   send
		body   map[string]any
		accept string
		status int
		code   string // "" runs Mine
	}{
		{"documentId sha256:<hex>", d.post, documentID("sha256:" + sha(mine)), graphqlJSON, 200, ""},
		{"documentId bare hex", d.post, documentID(sha(mine)), graphqlJSON, 200, ""},
		{"documentId by GET", d.get, documentID("sha256:" + sha(mine)), graphqlJSON, 200, ""},
		{"APQ hash without query", d.post, apq(sha(mine), ""), graphqlJSON, 200, ""},
		{"APQ hash by GET", d.get, apq(sha(mine), ""), graphqlJSON, 200, ""},
		{"listed text", d.post, map[string]any{"query": mine}, graphqlJSON, 200, ""},
		{"listed text with its APQ hash", d.post, apq(sha(mine), mine), graphqlJSON, 200, ""},
		{"documentId with its own text", d.post, map[string]any{"query": mine, "extensions": map[string]any{"documentId": sha(mine)}}, graphqlJSON, 200, ""},

		{"unlisted text", d.post, map[string]any{"query": unlisted}, graphqlJSON, 400, trusted.CodeNotInSafelist},
		{"unlisted text, application/json", d.post, map[string]any{"query": unlisted}, "application/json", 200, trusted.CodeNotInSafelist},
		{"unlisted text by GET", d.get, map[string]any{"query": unlisted}, graphqlJSON, 400, trusted.CodeNotInSafelist},
		{"listed text one byte off", d.post, map[string]any{"query": mine + "\n"}, graphqlJSON, 400, trusted.CodeNotInSafelist},
		{"unknown documentId", d.post, documentID("sha256:" + sha(unlisted)), graphqlJSON, 400, trusted.CodeNotInList},
		{"documentId not a string", d.post, map[string]any{"extensions": map[string]any{"documentId": 42}}, graphqlJSON, 400, trusted.CodeNotInList},
		{"unknown APQ hash", d.post, apq(sha(unlisted), ""), graphqlJSON, 400, trusted.CodeNotInList},
		{"APQ registration", d.post, apq(sha(unlisted), unlisted), graphqlJSON, 400, trusted.CodeNotInSafelist},
		{"documentId with another text", d.post, map[string]any{"query": unlisted, "extensions": map[string]any{"documentId": sha(mine)}}, graphqlJSON, 400, trusted.CodeIDMismatch},
		{"introspection", d.post, map[string]any{"query": `{ __schema { queryType { name } } }`}, graphqlJSON, 400, trusted.CodeNotInSafelist},
	}
	for _, tt := range tests {
		before := d.upstreamCalls()
		a := tt.send(t, tt.body, tt.accept)
		if a.status != tt.status || a.code() != tt.code {
			t.Errorf("%s: %v; want %d with code %q", tt.name, a, tt.status, tt.code)
			continue
		}
		if tt.code == "" {
			if !strings.Contains(string(a.Data), `"userName"`) {
				t.Errorf("%s: data %s", tt.name, a.Data)
			}
			continue
		}
		if a.Data != nil {
			t.Errorf("%s: a refusal with data: %s", tt.name, a.Data)
		}
		if n := d.upstreamCalls() - before; n != 0 {
			t.Errorf("%s: the refused request made %d upstream calls", tt.name, n)
		}
	}
	// The refused registration registered nothing.
	if a := d.post(t, apq(sha(unlisted), ""), graphqlJSON); a.code() != trusted.CodeNotInList {
		t.Errorf("after a refused registration, its hash: %v", a)
	}
}

func TestEnforceLetsIntrospectionThroughWhereItIsOn(t *testing.T) {
	d := newDoor(t, trusted.Enforce, true)
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`query IntrospectionQuery { __type(name: "User") { name } ...Meta } fragment Meta on Query { __typename }`,
	} {
		if a := d.post(t, map[string]any{"query": q}, graphqlJSON); a.status != 200 || len(a.Errors) > 0 {
			t.Errorf("%s: %v", q, a)
		}
	}
	// Anything else is still refused, introspection mixed in or not.
	for _, q := range []string{unlisted, `{ __typename users { id } }`, `{ ...F } fragment F on Query { users { id } }`} {
		if a := d.post(t, map[string]any{"query": q}, graphqlJSON); a.code() != trusted.CodeNotInSafelist {
			t.Errorf("%s: %v; want %s", q, a, trusted.CodeNotInSafelist)
		}
	}
	if d.upstreamCalls() != 0 {
		t.Errorf("%d upstream calls", d.upstreamCalls())
	}
}

func TestLogRunsEverythingAndReportsTheUnlisted(t *testing.T) {
	d := newDoor(t, trusted.Log, false)
	if a := d.post(t, map[string]any{"query": `query Everyone { users { id } }`}, graphqlJSON); a.status != 200 || len(a.Errors) > 0 {
		t.Fatalf("unlisted text under log: %v", a)
	}
	if a := d.post(t, documentID(sha(mine)), graphqlJSON); a.status != 200 || len(a.Errors) > 0 {
		t.Fatalf("by id under log: %v", a)
	}
	// APQ works as before for unlisted texts: registration, then the hash.
	q := `query Names { users { userName } }`
	if a := d.post(t, apq(sha(q), ""), graphqlJSON); a.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("unknown APQ hash under log: %v; want APQ's PERSISTED_QUERY_NOT_FOUND", a)
	}
	if a := d.post(t, apq(sha(q), q), graphqlJSON); a.status != 200 || len(a.Errors) > 0 {
		t.Errorf("APQ registration under log: %v", a)
	}
	if a := d.post(t, apq(sha(q), ""), graphqlJSON); a.status != 200 || len(a.Errors) > 0 {
		t.Errorf("registered APQ hash under log: %v", a)
	}
	// An unknown id has no text to run, in any mode.
	if a := d.post(t, documentID("sha256:"+sha(q)), graphqlJSON); a.status != 400 || a.code() != trusted.CodeNotInList {
		t.Errorf("unknown documentId under log: %v", a)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	wantStatuses := []trusted.Status{trusted.StatusNotListed, trusted.StatusListed, trusted.StatusNotListed, trusted.StatusNotListed, trusted.StatusRefused}
	if !slices.Equal(d.statuses, wantStatuses) {
		t.Errorf("OnOperation heard %v; want %v", d.statuses, wantStatuses)
	}
	if want := []string{"Everyone", "Names", "Names"}; !slices.Equal(d.unlisted, want) {
		t.Errorf("OnUnlisted heard %v; want %v", d.unlisted, want)
	}
}

func TestHooksSeeTheClientName(t *testing.T) {
	d := newDoor(t, trusted.Enforce, false)
	for _, tc := range []struct {
		client string
		body   map[string]any
	}{{"web", documentID(sha(mine))}, {"ios", map[string]any{"query": unlisted}}} {
		d.postWith(t, tc.body, map[string]string{"Accept": graphqlJSON, "apollographql-client-name": tc.client})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if want := []trusted.Status{trusted.StatusListed, trusted.StatusRefused}; !slices.Equal(d.statuses, want) {
		t.Errorf("statuses %v; want %v", d.statuses, want)
	}
	if want := []string{"web", "ios"}; !slices.Equal(d.clients, want) {
		t.Errorf("OnOperation saw clients %q; want %q", d.clients, want)
	}
}

func TestListedDocumentsAreNotParsedAgain(t *testing.T) {
	d := newDoor(t, trusted.Log, false)
	listed, _ := d.store.Lookup(sha(mine))
	for _, body := range []map[string]any{documentID(sha(mine)), apq(sha(mine), ""), {"query": mine}} {
		if a := d.post(t, body, graphqlJSON); a.status != 200 || len(a.Errors) > 0 {
			t.Fatalf("%v: %v", body, a)
		}
	}
	d.mu.Lock()
	for i, doc := range d.ran {
		if doc != listed.Query {
			t.Errorf("operation %d ran a document parsed per request, not the one parsed at load", i)
		}
	}
	d.mu.Unlock()
	if g, a := d.inner.counts(); g != 0 || a != 0 {
		t.Errorf("the server's own cache was asked %d times and given %d documents for listed operations", g, a)
	}

	// An unlisted text (log) is parsed once, then comes from the server's cache.
	for range 2 {
		if a := d.post(t, map[string]any{"query": `{ users { id } }`}, graphqlJSON); a.status != 200 {
			t.Fatalf("%v", a)
		}
	}
	if g, a := d.inner.counts(); g != 2 || a != 1 {
		t.Errorf("unlisted text: %d lookups, %d additions in the server's cache; want 2, 1", g, a)
	}
}

// countingCache counts what gqlgen asks of the server's own query cache.
type countingCache struct {
	inner      graphql.Cache[*ast.QueryDocument]
	mu         sync.Mutex
	gets, adds int
}

func (c *countingCache) Get(ctx context.Context, q string) (*ast.QueryDocument, bool) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.inner.Get(ctx, q)
}

func (c *countingCache) Add(ctx context.Context, q string, doc *ast.QueryDocument) {
	c.mu.Lock()
	c.adds++
	c.mu.Unlock()
	c.inner.Add(ctx, q, doc)
}

func (c *countingCache) counts() (gets, adds int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets, c.adds
}
