package schemadiff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph/schemadiff"
)

func load(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := schemadiff.Load("test.graphqls", sdl)
	if err != nil {
		t.Fatalf("schema does not load: %v\n%s", err, sdl)
	}
	return s
}

// Short names for the expected findings.
func breaking(coord, msg string) schemadiff.Change {
	return schemadiff.Change{Severity: schemadiff.Breaking, Coordinate: coord, Message: msg}
}

func dangerous(coord, msg string) schemadiff.Change {
	return schemadiff.Change{Severity: schemadiff.Dangerous, Coordinate: coord, Message: msg}
}

func info(coord, msg string) schemadiff.Change {
	return schemadiff.Change{Severity: schemadiff.Info, Coordinate: coord, Message: msg}
}

const deprecatedRemoved = "; it was deprecated, but clients may still use it (-allow-removing-deprecated accepts this)"

// Each rule of the contract as a pair of small schemas and exactly the
// findings it must produce, no more.
func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		opts     schemadiff.Options
		want     []schemadiff.Change
	}{
		{
			name: "identical schemas",
			old:  `type Query { a(x: Int = 1): [Int!]! } enum E { A B } union U = Query`,
			new:  `type Query { a(x: Int = 1): [Int!]! } enum E { A B } union U = Query`,
		},
		// Types.
		{
			name: "type removed",
			old:  `type Query { a: Int } type Gone { x: Int }`,
			new:  `type Query { a: Int }`,
			want: []schemadiff.Change{breaking("Gone", "type removed")},
		},
		{
			name: "type added",
			old:  `type Query { a: Int }`,
			new:  `type Query { a: Int } input New { x: Int }`,
			want: []schemadiff.Change{info("New", "type added (INPUT_OBJECT)")},
		},
		{
			name: "type changes kind",
			old:  `type Query { a: Int } type T { x: Int }`,
			new:  `type Query { a: Int } input T { x: Int }`,
			want: []schemadiff.Change{breaking("T", "kind changed from OBJECT to INPUT_OBJECT")},
		},
		{
			name: "description changed, added and removed",
			old:  `"q" type Query { "a" a: Int b: Int "c" c: Int }`,
			new:  `"Q" type Query { "a" a: Int "b" b: Int c: Int }`,
			want: []schemadiff.Change{
				info("Query", "description changed"),
				info("Query.b", "description added"),
				info("Query.c", "description removed"),
			},
		},
		// Fields: output positions.
		{
			name: "field removed",
			old:  `type Query { e: Event } type Event { id: ID! details: String }`,
			new:  `type Query { e: Event } type Event { id: ID! }`,
			want: []schemadiff.Change{breaking("Event.details", "field removed")},
		},
		{
			name: "field added",
			old:  `type Query { a: Int }`,
			new:  `type Query { a: Int b: Int }`,
			want: []schemadiff.Change{info("Query.b", "field added")},
		},
		{
			name: "non-null result made nullable",
			old:  `type Query { a: String! }`,
			new:  `type Query { a: String }`,
			want: []schemadiff.Change{breaking("Query.a", "type changed from String! to String: a non-null result made nullable")},
		},
		{
			name: "nullable result made non-null is safe",
			old:  `type Query { a: String }`,
			new:  `type Query { a: String! }`,
			want: []schemadiff.Change{info("Query.a", "type changed from String to String! (a result that promises more)")},
		},
		{
			name: "non-null list item made nullable",
			old:  `type Query { a: [Int!]! }`,
			new:  `type Query { a: [Int]! }`,
			want: []schemadiff.Change{breaking("Query.a", "type changed from [Int!]! to [Int]!: a non-null list item of the result made nullable")},
		},
		{
			name: "named type changed",
			old:  `type Query { a: Int }`,
			new:  `type Query { a: String }`,
			want: []schemadiff.Change{breaking("Query.a", "type changed from Int to String: named type Int replaced by String")},
		},
		{
			name: "single value made a list",
			old:  `type Query { a: Int }`,
			new:  `type Query { a: [Int] }`,
			want: []schemadiff.Change{breaking("Query.a", "type changed from Int to [Int]: a single value made a list")},
		},
		// Arguments: input positions.
		{
			name: "argument removed",
			old:  `type Query { user(id: ID!, verbose: Boolean): Int }`,
			new:  `type Query { user(id: ID!): Int }`,
			want: []schemadiff.Change{breaking("Query.user(verbose:)", "argument removed")},
		},
		{
			name: "required argument added",
			old:  `type Query { users: Int }`,
			new:  `type Query { users(first: Int!): Int }`,
			want: []schemadiff.Change{breaking("Query.users(first:)", "required argument added; operations that do not give it fail")},
		},
		{
			name: "optional arguments added: nullable, or non-null with a default",
			old:  `type Query { users: Int }`,
			new:  `type Query { users(after: String, first: Int! = 10): Int }`,
			want: []schemadiff.Change{
				info("Query.users(after:)", "optional argument added"),
				info("Query.users(first:)", "optional argument added"),
			},
		},
		{
			name: "nullable argument made non-null",
			old:  `type Query { user(id: ID): Int }`,
			new:  `type Query { user(id: ID!): Int }`,
			want: []schemadiff.Change{breaking("Query.user(id:)", "type changed from ID to ID!: a nullable input made non-null")},
		},
		{
			name: "non-null argument made nullable is safe",
			old:  `type Query { user(id: ID!): Int }`,
			new:  `type Query { user(id: ID): Int }`,
			want: []schemadiff.Change{info("Query.user(id:)", "type changed from ID! to ID (an input that accepts more)")},
		},
		{
			name: "nullable list item of an argument made non-null",
			old:  `type Query { users(ids: [ID]): Int }`,
			new:  `type Query { users(ids: [ID!]): Int }`,
			want: []schemadiff.Change{breaking("Query.users(ids:)", "type changed from [ID] to [ID!]: a nullable list item of the input made non-null")},
		},
		{
			name: "default removed from a non-null argument makes it required",
			old:  `type Query { users(first: Int! = 10): Int }`,
			new:  `type Query { users(first: Int!): Int }`,
			want: []schemadiff.Change{breaking("Query.users(first:)", "default value 10 removed; the input is now required")},
		},
		{
			name: "default removed from a nullable argument",
			old:  `type Query { users(first: Int = 10): Int }`,
			new:  `type Query { users(first: Int): Int }`,
			want: []schemadiff.Change{dangerous("Query.users(first:)", "default value 10 removed; clients that omit it now get null")},
		},
		{
			name: "default changed, default added",
			old:  `type Query { users(first: Int = 10, order: String): Int }`,
			new:  `type Query { users(first: Int = 20, order: String = "name"): Int }`,
			want: []schemadiff.Change{
				dangerous("Query.users(first:)", "default value changed from 10 to 20; clients that omit it get the new one"),
				info("Query.users(order:)", `default value "name" added`),
			},
		},
		{
			name: "defaults equal in GraphQL are equal: object fields in another order, block strings",
			old:  `type Query { a(p: P = {x: 1, y: 2}, s: String = "hi"): Int } input P { x: Int y: Int }`,
			new:  `type Query { a(p: P = {y: 2, x: 1}, s: String = """hi"""): Int } input P { x: Int y: Int }`,
		},
		// Input objects.
		{
			name: "input field removed",
			old:  `type Query { a(in: In): Int } input In { name: String details: String }`,
			new:  `type Query { a(in: In): Int } input In { name: String }`,
			want: []schemadiff.Change{breaking("In.details", "input field removed")},
		},
		{
			name: "required input field added, optional input fields added",
			old:  `type Query { a(in: In): Int } input In { name: String }`,
			new:  `type Query { a(in: In): Int } input In { name: String, userId: ID!, tags: [String], size: Int! = 1 }`,
			want: []schemadiff.Change{
				breaking("In.userId", "required input field added; inputs without it fail"),
				info("In.size", "optional input field added"),
				info("In.tags", "optional input field added"),
			},
		},
		{
			name: "nullable input field made non-null, non-null one made nullable",
			old:  `type Query { a(in: In): Int } input In { name: String userId: ID! }`,
			new:  `type Query { a(in: In): Int } input In { name: String! userId: ID }`,
			want: []schemadiff.Change{
				breaking("In.name", "type changed from String to String!: a nullable input made non-null"),
				info("In.userId", "type changed from ID! to ID (an input that accepts more)"),
			},
		},
		{
			name: "input becomes @oneOf",
			old:  `type Query { a(by: By): Int } input By { id: ID name: String }`,
			new:  `type Query { a(by: By): Int } input By @oneOf { id: ID name: String }`,
			want: []schemadiff.Change{breaking("By", "became @oneOf; inputs that set several fields, or none, fail")},
		},
		// Enums, unions, interfaces.
		{
			name: "enum value removed",
			old:  `type Query { s: State } enum State { OPEN CLOSED }`,
			new:  `type Query { s: State } enum State { OPEN }`,
			want: []schemadiff.Change{breaking("State.CLOSED", "enum value removed")},
		},
		{
			name: "enum value added is dangerous",
			old:  `type Query { s: State } enum State { OPEN CLOSED }`,
			new:  `type Query { s: State } enum State { OPEN CLOSED HALF_OPEN }`,
			want: []schemadiff.Change{dangerous("State.HALF_OPEN", "enum value added; clients that switch over every value may not handle it")},
		},
		{
			name: "union member removed",
			old:  `type Query { r: R } union R = A | B type A { a: Int } type B { b: Int }`,
			new:  `type Query { r: R } union R = A type A { a: Int } type B { b: Int }`,
			want: []schemadiff.Change{breaking("R", "member B removed")},
		},
		{
			name: "union member added is dangerous",
			old:  `type Query { r: R } union R = A type A { a: Int } type B { b: Int }`,
			new:  `type Query { r: R } union R = A | B type A { a: Int } type B { b: Int }`,
			want: []schemadiff.Change{dangerous("R", "member B added; clients that switch over every member may not handle it")},
		},
		{
			name: "interface dropped by an object, another added",
			old:  `type Query { n: Node } interface Node { id: ID } interface Named { id: ID } type T implements Node { id: ID }`,
			new:  `type Query { n: Node } interface Node { id: ID } interface Named { id: ID } type T implements Named { id: ID }`,
			want: []schemadiff.Change{
				breaking("T", "no longer implements Node"),
				dangerous("T", "now implements Named; clients that switch over Named's types may not expect it"),
			},
		},
		// Deprecation.
		{
			name: "deprecations added, lifted and reworded",
			old:  `type Query { a: Int b: Int @deprecated c: Int @deprecated(reason: "old") } enum E { X Y }`,
			new:  `type Query { a: Int @deprecated(reason: "use c") b: Int c: Int @deprecated(reason: "new") } enum E { X Y @deprecated }`,
			want: []schemadiff.Change{
				info("E.Y", "deprecated: No longer supported"),
				info("Query.a", "deprecated: use c"),
				info("Query.b", "no longer deprecated"),
				info("Query.c", "deprecation reason changed to: new"),
			},
		},
		{
			name: "deprecated field removed is still breaking",
			old:  `type Query { a: Int old: Int @deprecated(reason: "use a") }`,
			new:  `type Query { a: Int }`,
			want: []schemadiff.Change{breaking("Query.old", "field removed"+deprecatedRemoved)},
		},
		{
			name: "deprecated field, argument, input field and enum value removed when allowed",
			old: `type Query { a(x: Int @deprecated, in: In): E old: Int @deprecated }
				input In { y: Int @deprecated z: Int } enum E { A B @deprecated }`,
			new:  `type Query { a(in: In): E } input In { z: Int } enum E { A }`,
			opts: schemadiff.Options{AllowRemovingDeprecated: true},
			want: []schemadiff.Change{
				dangerous("E.B", "deprecated enum value removed"),
				dangerous("In.y", "deprecated input field removed"),
				dangerous("Query.a(x:)", "deprecated argument removed"),
				dangerous("Query.old", "deprecated field removed"),
			},
		},
		{
			name: "allowing deprecated removals does not allow others",
			old:  `type Query { a: Int b: Int }`,
			new:  `type Query { a: Int }`,
			opts: schemadiff.Options{AllowRemovingDeprecated: true},
			want: []schemadiff.Change{breaking("Query.b", "field removed")},
		},
		{
			name: "type only a deprecated field used, removed with it when allowed",
			old:  `type Query { a: Int legacy: Legacy @deprecated } type Legacy { x: Int }`,
			new:  `type Query { a: Int }`,
			opts: schemadiff.Options{AllowRemovingDeprecated: true},
			want: []schemadiff.Change{
				dangerous("Legacy", "type removed; only deprecated fields and arguments used it"),
				dangerous("Query.legacy", "deprecated field removed"),
			},
		},
		{
			name: "type only a deprecated field used, removed without allowing it",
			old:  `type Query { a: Int legacy: Legacy @deprecated } type Legacy { x: Int }`,
			new:  `type Query { a: Int }`,
			want: []schemadiff.Change{
				breaking("Legacy", "type removed"),
				breaking("Query.legacy", "field removed"+deprecatedRemoved),
			},
		},
		// Directives.
		{
			name: "directive applied to a field changed",
			old:  `directive @hint(scope: String, age: Int) on FIELD_DEFINITION type Query { a: Int @hint(scope: "PRIVATE", age: 1) }`,
			new:  `directive @hint(scope: String, age: Int) on FIELD_DEFINITION type Query { a: Int @hint(age: 1, scope: "PUBLIC") }`,
			want: []schemadiff.Change{info("Query.a", `directive changed from @hint(age: 1, scope: "PRIVATE") to @hint(age: 1, scope: "PUBLIC")`)},
		},
		{
			name: "directive clients write, removed",
			old:  `directive @mask(with: String) on FIELD type Query { a: Int }`,
			new:  `type Query { a: Int }`,
			want: []schemadiff.Change{breaking("@mask", "directive removed; operations that use it fail")},
		},
		{
			name: "type-system directive removed, with its uses",
			old:  `directive @hint on FIELD_DEFINITION type Query { a: Int @hint }`,
			new:  `type Query { a: Int }`,
			want: []schemadiff.Change{
				info("@hint", "type-system directive removed"),
				info("Query.a", "directive @hint removed"),
			},
		},
		{
			name: "directive clients write: location and argument removed, required argument added",
			old:  `directive @mask(with: String) on FIELD | FRAGMENT_SPREAD type Query { a: Int }`,
			new:  `directive @mask(level: Int!) on FIELD type Query { a: Int }`,
			want: []schemadiff.Change{
				breaking("@mask", "location FRAGMENT_SPREAD removed"),
				breaking("@mask(level:)", "required argument added; operations that do not give it fail"),
				breaking("@mask(with:)", "argument removed"),
			},
		},
		{
			name: "type-system directive: the same changes are information",
			old:  `directive @hint(with: String) on FIELD_DEFINITION | OBJECT type Query { a: Int }`,
			new:  `directive @hint(level: Int!) on FIELD_DEFINITION type Query { a: Int }`,
			want: []schemadiff.Change{
				info("@hint", "location OBJECT removed"),
				info("@hint(level:)", "required argument added; operations that do not give it fail (type-system directive: only the schema writes it)"),
				info("@hint(with:)", "argument removed (type-system directive: only the schema writes it)"),
			},
		},
		{
			name: "directive added",
			old:  `type Query { a: Int }`,
			new:  `directive @mask on FIELD type Query { a: Int }`,
			want: []schemadiff.Change{info("@mask", "directive added")},
		},
		// Roots.
		{
			name: "query root moved to another type",
			old:  `type Query { a: Int } type Other { a: Int }`,
			new:  `schema { query: Other } type Query { a: Int } type Other { a: Int }`,
			want: []schemadiff.Change{breaking("schema", "query root type changed from Query to Other")},
		},
		{
			name: "mutation root added",
			old:  `type Query { a: Int }`,
			new:  `type Query { a: Int } type Mutation { b: Int }`,
			want: []schemadiff.Change{
				info("Mutation", "type added (OBJECT)"),
				info("schema", "mutation root type Mutation added"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := schemadiff.Diff(load(t, tt.old), load(t, tt.new), tt.opts)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", lines(got), lines(tt.want))
			}
		})
	}
}

func lines(changes []schemadiff.Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString("  " + c.Severity.String() + " " + c.String() + "\n")
	}
	return b.String()
}
