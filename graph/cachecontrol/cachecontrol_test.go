package cachecontrol

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/internal/httpcache"
)

const schema = `
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
enum CacheControlScope { PUBLIC PRIVATE }
type Query {
  posts: [Post!]! @cacheControl(maxAge: 120)
  me: Person
  weather: Int @cacheControl(maxAge: 10)
  uncached: Int
}
type Post @cacheControl(maxAge: 60) { id: ID! title: String author: Person }
type Person @cacheControl(maxAge: 300) { id: ID! name: String email: String @cacheControl(scope: PRIVATE) }
type Mutation { like(id: ID!): Post }
`

// policyOf runs the extension on query and returns the Cache-Control it
// comes to for a GET.
func policyOf(t *testing.T, query string) string {
	t.Helper()
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	doc, errs := gqlparser.LoadQuery(s, query)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	e := &Extension{schema: s}
	p := &httpcache.Policy{}
	ctx := httpcache.WithPolicy(context.Background(), p)
	oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
	if err := e.MutateOperationContext(ctx, oc); err != nil {
		t.Fatal(err)
	}
	return p.CacheControl()
}

func TestTheShortestHintWinsAndPrivateSpreads(t *testing.T) {
	tests := []struct{ query, want string }{
		{`{ posts { id title } }`, "public, max-age=120"},          // the field's own hint beats its type's 60
		{`{ weather }`, "public, max-age=10"},                      // a scalar root field with a hint
		{`{ uncached }`, "no-cache"},                               // a root field without one
		{`{ posts { author { name } } }`, "public, max-age=120"},   // 120 beats the author's 300
		{`{ me { name } }`, "public, max-age=300"},                 // a root field without a hint takes its type's
		{`{ posts { author { email } } }`, "private, max-age=120"}, // a private scalar makes it private
		{`{ me { name } weather }`, "public, max-age=10"},          // across root fields
		{`{ ...F } fragment F on Query { weather posts { id } }`, "public, max-age=10"},
		{`{ posts { ... on Post { author { email } } } }`, "private, max-age=120"},
		{`mutation { like(id: "1") { id } }`, "no-store"},
		{`{ __typename }`, "no-cache"},
	}
	for _, tt := range tests {
		if got := policyOf(t, tt.query); got != tt.want {
			t.Errorf("%s: %q; want %q", tt.query, got, tt.want)
		}
	}
}

// Each fragment's policy is computed once however often it is spread, so a
// fragment bomb costs nothing here (the expansion guard refuses it anyway).
func TestFragmentsSpreadManyTimes(t *testing.T) {
	q := `{ ...F3 } fragment F0 on Query { weather } fragment F1 on Query { ...F0 ...F0 ...F0 }
	fragment F2 on Query { ...F1 ...F1 ...F1 } fragment F3 on Query { ...F2 ...F2 ...F2 }`
	if got := policyOf(t, q); got != "public, max-age=10" {
		t.Errorf("%q", got)
	}
}
