package limits_test

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/limits"
)

// complexityQueries are documents gqlgen's own complexity walk can afford,
// for comparing with the memoized one.
var complexityQueries = []string{
	normalQuery,
	"{ users { id userName email events { id name userId details user { id } } } event(id: 1) { id } }",
	"query($id: ID!) { a: user(id: $id) { id } b: user(id: \"u2\") { events { id } } }",
	`mutation { addEvent(input: {name: "x", userId: "u1"}) {
		__typename
		... on AddEventSuccess { event { id name user { events { id } } } }
		... on ServiceUnavailable { message retryAfter circuitState }
		... on InvalidInput { message field } } }`,
	// One fragment at two depths and inside an inline fragment.
	`{ users { ...U events { user { ...U } } } events { ... on Event { user { ...U } } } }
	fragment U on User { id events { id name } }`,
	colocatedFragments(12),
	bomb(6, 2),
	bomb(8, 2),
	bomb(4, 10),
	graphiqlIntrospectionQuery,
	introspection.Query,
	`{ __type(name: "User") { name fields { name type { name } } } users { __typename id } }`,
}

func TestComplexityMatchesGqlgen(t *testing.T) {
	es := graph.NewExecutableSchema(graph.NewConfig(nil))
	ctx := context.Background()
	vars := map[string]any{"id": "u1"}
	for _, q := range complexityQueries {
		doc, errs := gqlparser.LoadQuery(es.Schema(), q)
		if errs != nil {
			t.Fatalf("%.60q: %v", q, errs)
		}
		for _, op := range doc.Operations {
			want := complexity.Calculate(ctx, es, op, vars)
			if got := limits.CalculateComplexity(ctx, es, op, vars); got != want {
				t.Errorf("%.60q: complexity %d; gqlgen's %d", q, got, want)
			}
		}
	}
}

// TestComplexityLikeGqlgen checks the extension answers as gqlgen's
// FixedComplexityLimit does: same error, same stats.
func TestComplexityLikeGqlgen(t *testing.T) {
	es := graph.NewExecutableSchema(graph.NewConfig(nil))
	ours := &limits.Complexity{Limit: 1000}
	theirs := extension.FixedComplexityLimit(1000)
	for _, ext := range []graphql.HandlerExtension{ours, theirs} {
		if err := ext.Validate(es); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{normalQuery, bomb(6, 2)} {
		doc, errs := gqlparser.LoadQuery(es.Schema(), q)
		if errs != nil {
			t.Fatal(errs)
		}
		run := func(m graphql.OperationContextMutator) (string, any, *extension.ComplexityStats) {
			oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{"id": "u1"}}
			err := m.MutateOperationContext(context.Background(), oc)
			stats, _ := oc.Stats.GetExtension("ComplexityLimit").(*extension.ComplexityStats)
			if err == nil {
				return "", nil, stats
			}
			return err.Message, err.Extensions["code"], stats
		}
		msg, code, stats := run(ours)
		wantMsg, wantCode, wantStats := run(theirs)
		if msg != wantMsg || code != wantCode {
			t.Errorf("%.40q: error %q (%v); gqlgen's %q (%v)", q, msg, code, wantMsg, wantCode)
		}
		if stats == nil || *stats != *wantStats {
			t.Errorf("%.40q: stats %+v; gqlgen's %+v", q, stats, wantStats)
		}
	}
}

// The walk runs on every request: for an operation without fragments, the
// only allocation is the argument map of the one field that has arguments
// (no empty maps for the others, no fragment memo).
func TestComplexityAllocatesOnlyArguments(t *testing.T) {
	es := graph.NewExecutableSchema(graph.NewConfig(nil))
	doc, errs := gqlparser.LoadQuery(es.Schema(), "query($id: ID!) { user(id: $id) { id userName events { id name details } } }")
	if errs != nil {
		t.Fatal(errs)
	}
	ctx, op, vars := context.Background(), doc.Operations[0], map[string]any{"id": "u1"}
	allocs := testing.AllocsPerRun(100, func() { limits.CalculateComplexity(ctx, es, op, vars) })
	// ArgumentMap of user(id:) is the map and the boxed value it holds.
	if allocs > 2 {
		t.Errorf("%v allocations per walk; want at most 2", allocs)
	}
}
