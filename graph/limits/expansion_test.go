package limits_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/limits"
)

// graphiqlIntrospectionQuery is the query GraphiQL has long sent on
// opening: graphql-js's getIntrospectionQuery() with its default options.
const graphiqlIntrospectionQuery = `
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

const (
	validationFailed = errcode.ValidationFailed
	parseFailed      = errcode.ParseFailed
)

type handlerCase struct {
	name      string
	query     string
	operation string
	wantCode  string // "" means accepted
}

// bombCases are the audit's bomb at every size the brief names. A small
// bomb is a small query: the guard lets it through and the other limits
// judge it like any other.
func bombCases() []handlerCase {
	var cases []handlerCase
	for _, levels := range []int{6, 8, 12, 20} {
		for _, fanout := range []int{2, 10, 50} {
			want := limits.CodeFields
			switch {
			case levels == 6 && fanout == 2:
				want = "" // 255 selections, complexity 64*20
			case levels == 8 && fanout == 2:
				want = limits.CodeComplexity // 1023 selections, complexity 256*20
			}
			if want == limits.CodeFields && bombExpansion(levels, fanout) <= limits.DefaultMaxFields {
				panic("bomb within the limit")
			}
			cases = append(cases, handlerCase{
				name:     fmt.Sprintf("bomb levels=%d fanout=%d", levels, fanout),
				query:    bomb(levels, fanout),
				wantCode: want,
			})
		}
	}
	return cases
}

func TestHandler(t *testing.T) {
	srv := newServer(t)
	cases := append(bombCases(), []handlerCase{
		{"bomb in an unused fragment", "{ users { id } }\n" + bombFragments("F", 8, 10), "", limits.CodeFields},
		{"bomb spread from another operation", "query A { users { id } }\nquery B { ...F8 }\n" + bombFragments("F", 8, 10), "A", limits.CodeFields},
		{"bomb through inline fragments", "query { ...F8 }\n" + strings.ReplaceAll(
			strings.ReplaceAll(bombFragments("F", 8, 10), "on Query {", "on Query { ... on Query { ... {"), " }\n", " } } }\n"), "", limits.CodeFields},
		{"deeply nested inline fragments", "{ " + strings.Repeat("... on Query { ", 200) + "users { id }" + strings.Repeat(" }", 200) + " }", "", ""},
		{"fragment cycle", "query { ...A }\nfragment A on Query { users { id } ...B }\nfragment B on Query { ...A }", "", validationFailed},
		{"fragment spreading itself", "query { ...A }\nfragment A on Query { users { id } " + repeat("...A", 10) + "}", "", validationFailed},
		{"fragment cycle with fan-out", "query { ...A }\nfragment A on Query { users { id } " + repeat("...B", 10) + "}\nfragment B on Query { " + repeat("...A", 10) + "}", "", validationFailed},
		{"fragment cycle past the limit", "query { ...A }\nfragment A on Query { users { id } " + repeat("...B", 50) + "}\nfragment B on Query { " + repeat("...A", 50) + "}", "", limits.CodeFields},
		{"unknown fragment", "{ " + repeat("...Nope", 50) + "}", "", validationFailed},
		{"parse error", "{ users { id }", "", parseFailed},
		{"over the token limit", "{ users { " + repeat("id", tokenLimit) + "} }", "", parseFailed},
		{"one field repeated", "{ users { " + repeat("id", 200) + "} }", "", limits.CodeOverlaps},
		{"conflicting aliases", "{ users { " + repeat("a: id a: userName", 50) + "} }", "", limits.CodeOverlaps},
		{"a few conflicting aliases", "{ users { a: id a: userName } }", "", validationFailed},
		{"fragment chain", fragmentChain(150), "", limits.CodeFields},
		{"long argument shared by many operations", numbered("query Q%d { ...G }\n", 300) +
			"fragment G on Query { event(id: [" + repeat("1", 1000) + "]) { id } }", "Q0", limits.CodeFields},
		{"bomb within the limit", bomb(4, 4), "", limits.CodeComplexity},
		{"the same with directives", directiveBomb(4, 4), "", limits.CodeFields},
		{"fragments spread side by side", "{ users { " + numbered("...F%d", 150) + "} }\n" + numbered("fragment F%d on User { id }\n", 150), "", limits.CodeOverlaps},
		{"normal query", normalQuery, "", ""},
		{"every field", "{ users { id userName email events { id name userId details user { id } } } event(id: 1) { id } }", "", ""},
		{"mutation on a union", `mutation { addEvent(input: {name: "x", userId: "u1"}) {
			__typename
			... on AddEventSuccess { event { id name } }
			... on ServiceUnavailable { message retryAfter circuitState }
			... on InvalidInput { message field } } }`, "", ""},
		{"colocated fragments", colocatedFragments(12), "", ""},
		{"GraphiQL introspection", graphiqlIntrospectionQuery, "", ""},
		{"full introspection", introspection.Query, "", ""},
		{"introspection with isOneOf", introspection.NewQuery(introspection.QueryOptions{OneOf: true}), "", ""},
	}...)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, srv, request{Query: tt.query, OperationName: tt.operation, Variables: map[string]any{"id": "u1"}})
			if got := resp.code(); got != tt.wantCode {
				t.Errorf("code %q; want %q: %.300s", got, tt.wantCode, resp)
			}
		})
	}
}

// directiveBomb is bomb(levels, fanout) with two directives on every
// spread, which count as much as the fields and spreads.
func directiveBomb(levels, fanout int) string {
	q := bomb(levels, fanout)
	for l := range levels + 1 {
		q = strings.ReplaceAll(q, fmt.Sprintf("...F%d ", l), fmt.Sprintf("...F%d @include(if: true) @skip(if: false) ", l))
	}
	return q
}

// fragmentChain is a query spreading a chain of n fragments, each spreading
// the next: small everywhere, but gqlparser validates each fragment with
// every one it reaches, quadratic in n.
func fragmentChain(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query { ...C%d }\nfragment C0 on Query { users { id } }\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "fragment C%d on Query { ...C%d }\n", i, i-1)
	}
	return b.String()
}

// colocatedFragments is a query as clients that colocate fragments with
// components write it: n fragments on one type, each selecting __typename
// and id again, as Apollo Client adds them.
func colocatedFragments(n int) string {
	var b strings.Builder
	b.WriteString("{ users { __typename id " + numbered("...P%d", n) + "} }\n")
	fields := []string{"userName", "email"}
	for i := range n {
		fmt.Fprintf(&b, "fragment P%d on User { __typename id %s }\n", i, fields[i%len(fields)])
	}
	return b.String()
}

// TestBoundsWithoutTokenLimit shows the document bounds hold on their own:
// without a parser token limit, size is what the other bounds leave.
func TestBoundsWithoutTokenLimit(t *testing.T) {
	srv := newServerTokens(t, 0)
	for _, tt := range []handlerCase{
		{"many operations", numbered("query Q%d { users { id } }\n", 2600), "Q0", limits.CodeFields},
		{"many unused fragments", "{ users { id } }\n" + numbered("fragment U%d on User { id userName email }\n", 2000), "", limits.CodeFields},
		{"wide operation", "{ users { " + numbered("a%d: id", 2500) + "} }", "", limits.CodeFields},
		{"many operations sharing a fragment", numbered("query Q%d { ...G }\n", 100) + "fragment G on Query { users { " + numbered("a%d: id", 100) + "} }", "Q0", limits.CodeFields},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, srv, request{Query: tt.query, OperationName: tt.operation})
			if got := resp.code(); got != tt.wantCode {
				t.Errorf("code %q; want %q: %.300s", got, tt.wantCode, resp)
			}
		})
	}
}

// TestPersistedBomb sends a bomb as an automatic persisted query, then by
// its hash alone: the guard must see the query the APQ extension restores.
func TestPersistedBomb(t *testing.T) {
	srv := newServer(t)
	q := bomb(8, 10)
	for _, req := range []request{
		{Query: q, Extensions: apq(q)},
		{Extensions: apq(q)},
	} {
		if resp := do(t, srv, req); resp.code() != limits.CodeFields {
			t.Errorf("query sent: %t: %v; want %s", req.Query != "", resp, limits.CodeFields)
		}
	}
}

// TestCachedQueryNotChecked shows a query in the query cache is taken as
// checked: only gqlgen adds to it, after this guard and validation passed.
func TestCachedQueryNotChecked(t *testing.T) {
	cache := lru.New[*ast.QueryDocument](10)
	e := &limits.Expansion{Cache: cache}
	if err := e.Validate(graph.NewExecutableSchema(graph.NewConfig(nil))); err != nil {
		t.Fatal(err)
	}
	q := bomb(8, 10)
	ctx := context.Background()
	if err := e.MutateOperationParameters(ctx, &graphql.RawParams{Query: q}); err == nil || err.Extensions["code"] != limits.CodeFields {
		t.Fatalf("uncached bomb: %v; want %s", err, limits.CodeFields)
	}
	cache.Add(ctx, q, &ast.QueryDocument{})
	if err := e.MutateOperationParameters(ctx, &graphql.RawParams{Query: q}); err != nil {
		t.Errorf("cached query checked again: %v", err)
	}
}

// TestExpansionError checks what a rejection tells the client: the
// definition, its count and the limit.
func TestExpansionError(t *testing.T) {
	srv := newServer(t)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{bomb(8, 10), []string{"the anonymous operation", fmt.Sprintf("expands to %d ", bombExpansion(8, 10)), "limit of 2000"}},
		// F2 is the first definition over the limit.
		{"query A { users { id } }\n" + bombFragments("F", 20, 50), []string{`fragment "F2"`, fmt.Sprintf("expands to %d ", bombExpansion(2, 50)-1), "limit of 2000"}},
		{bomb(20, 50), []string{"the anonymous operation", "more than 9223372036854775806", "limit of 2000"}},
	} {
		resp := do(t, srv, request{Query: tt.query})
		if len(resp.Errors) != 1 {
			t.Fatalf("%d errors; want 1: %v", len(resp.Errors), resp)
		}
		for _, w := range tt.want {
			if !strings.Contains(resp.Errors[0].Message, w) {
				t.Errorf("message %q lacks %q", resp.Errors[0].Message, w)
			}
		}
	}
}

// TestConcurrentRequests runs requests side by side, so that -race sees the
// guards share no state between them, cached documents included.
func TestConcurrentRequests(t *testing.T) {
	srv := newServer(t)
	cases := []handlerCase{
		{"normal", normalQuery, "", ""},
		{"introspection", introspection.Query, "", ""},
		{"bomb", bomb(8, 10), "", limits.CodeFields},
		{"complex", bomb(8, 2), "", limits.CodeComplexity},
		{"overlaps", "{ users { " + repeat("id", 200) + "} }", "", limits.CodeOverlaps},
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				tt := cases[(w+i)%len(cases)]
				resp, err := send(srv, request{Query: tt.query, Variables: map[string]any{"id": "u1"}})
				if err != nil {
					t.Error(err)
				} else if got := resp.code(); got != tt.wantCode {
					t.Errorf("%s: code %q; want %q", tt.name, got, tt.wantCode)
				}
			}
		})
	}
	wg.Wait()
}
