package schemadiff_test

import (
	"slices"
	"testing"

	"github.com/eventms/gateway/graph/schemadiff"
)

func violation(coord, msg string) schemadiff.Violation {
	return schemadiff.Violation{Coordinate: coord, Message: msg}
}

func TestLint(t *testing.T) {
	tests := []struct {
		name string
		sdl  string
		want []schemadiff.Violation
	}{
		{
			name: "everything described and well named; prelude and introspection exempt",
			sdl: `
				"Reads." type Query {
					"A user." user("Its id." id: ID!, "How much." detail: Detail = FULL): User
				}
				"A person." type User { "Id." id: ID! "Name." userName: String }
				"How much to say." enum Detail { "All." FULL "Some." HALF_OPEN }
				"Writes." input AddEventInput { "Name." name: String! }
				"Outcome." union Result = User
				"Hint." directive @cacheControl("Seconds." maxAge: Int) on FIELD_DEFINITION`,
		},
		{
			name: "missing descriptions, one per kind of element",
			sdl: `
				type Query { user(id: ID!): User }
				"A person." type User { "Id." id: ID! }
				enum Detail { FULL }
				input AddEventInput { name: String! }
				directive @cacheControl(maxAge: Int) on FIELD_DEFINITION`,
			want: []schemadiff.Violation{
				violation("@cacheControl", "no description"),
				violation("@cacheControl(maxAge:)", "no description"),
				violation("AddEventInput", "no description"),
				violation("AddEventInput.name", "no description"),
				violation("Detail", "no description"),
				violation("Detail.FULL", "no description"),
				violation("Query", "no description"),
				violation("Query.user", "no description"),
				violation("Query.user(id:)", "no description"),
			},
		},
		{
			name: "a blank description is no description",
			sdl:  `"Reads." type Query { "  " a: Int }`,
			want: []schemadiff.Violation{violation("Query.a", "no description")},
		},
		{
			name: "bad naming, one per convention",
			sdl: `
				"Reads." type Query { "A user." User_Name("Id." ID: ID): user_profile }
				"A person." type user_profile { "Id." id: ID! }
				"States." enum circuitState { "Open." open "Half." HalfOpen "Closed." CLOSED_ }
				"In." input addEventInput { "Name." Name: String }
				"Hint." directive @CacheControl("Age." max_age: Int) on FIELD_DEFINITION`,
			want: []schemadiff.Violation{
				violation("@CacheControl", "name is not camelCase"),
				violation("@CacheControl(max_age:)", "name is not camelCase"),
				violation("Query.User_Name", "name is not camelCase"),
				violation("Query.User_Name(ID:)", "name is not camelCase"),
				violation("addEventInput", "name is not PascalCase"),
				violation("addEventInput.Name", "name is not camelCase"),
				violation("circuitState", "name is not PascalCase"),
				violation("circuitState.CLOSED_", "name is not UPPER_SNAKE_CASE"),
				violation("circuitState.HalfOpen", "name is not UPPER_SNAKE_CASE"),
				violation("circuitState.open", "name is not UPPER_SNAKE_CASE"),
				violation("user_profile", "name is not PascalCase"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := schemadiff.Lint(load(t, tt.sdl))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%v\nwant:\n%v", got, tt.want)
			}
		})
	}
}
