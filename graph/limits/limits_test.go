package limits

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var schema = gqlparser.MustLoadSchema(&ast.Source{Input: `
	type User  { id: ID!  name: String  events: [Event!]  friend: User }
	type Event { id: ID!  name: String!  user: User }
	type Query { user(id: ID!): User  event(id: ID!): Event }
`})

func TestShape(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		limit    Shape
		wantCode string // "" means accepted
	}{
		{"flat query within depth", `{ user(id: 1) { id } }`, Shape{MaxDepth: 2}, ""},
		{"one level too deep", `{ user(id: 1) { events { id } } }`, Shape{MaxDepth: 2}, CodeDepth},
		{"depth exactly at the limit", `{ user(id: 1) { events { user { id } } } }`, Shape{MaxDepth: 4}, ""},
		{"depth through a named fragment", `query { user(id: 1) { ...F } }
			fragment F on User { events { user { id } } }`, Shape{MaxDepth: 3}, CodeDepth},
		{"depth through an inline fragment", `{ user(id: 1) { ... on User { friend { friend { id } } } } }`, Shape{MaxDepth: 3}, CodeDepth},
		{"introspection is not counted", `{ __schema { types { fields { type { ofType { name } } } } } user(id: 1) { id } }`, Shape{MaxDepth: 2}, ""},
		{"aliases within the limit", `{ a: user(id: 1) { id } b: user(id: 2) { id } }`, Shape{MaxAliases: 2}, ""},
		{"too many aliases", `{ a: user(id: 1) { id } b: user(id: 2) { id } c: user(id: 3) { x: id } }`, Shape{MaxAliases: 3}, CodeAliases},
		{"an alias equal to the field name is no alias", `{ user: user(id: 1) { id: id } }`, Shape{MaxAliases: 1}, ""},
		{"aliases inside fragments count", `query { user(id: 1) { ...F } }
			fragment F on User { a: id b: name }`, Shape{MaxAliases: 1}, CodeAliases},
		{"zero disables both limits", `{ a: user(id: 1) { b: friend { c: friend { d: friend { id } } } } }`, Shape{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tt.query)
			if errs != nil {
				t.Fatalf("invalid test query: %v", errs)
			}
			oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
			err := tt.limit.MutateOperationContext(context.Background(), oc)
			switch {
			case tt.wantCode == "" && err != nil:
				t.Errorf("rejected: %v", err)
			case tt.wantCode != "" && err == nil:
				t.Errorf("accepted; want %s", tt.wantCode)
			case tt.wantCode != "" && err.Extensions["code"] != tt.wantCode:
				t.Errorf("code %v (%s); want %s", err.Extensions["code"], err.Message, tt.wantCode)
			}
		})
	}
}
