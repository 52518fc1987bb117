package limits

import (
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestIntrospectionExpansion keeps DefaultMaxFields' doc comment honest:
// the full introspection query has several times its count in headroom.
func TestIntrospectionExpansion(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: introspection.Query})
	if err != nil {
		t.Fatal(err)
	}
	c := expansionCounter{fragments: fragmentIndex(doc.Fragments), counts: map[string]int{}}
	op := c.selectionSet(doc.Operations[0].SelectionSet)
	total := op
	for _, f := range doc.Fragments {
		total += c.fragment(f.Name)
	}
	t.Logf("introspection expands to %d selections, %d with its fragments on their own", op, total)
	if op > DefaultMaxFields/4 || total > DefaultMaxDocumentFields/4 {
		t.Errorf("introspection: %d and %d selections leave too little headroom under %d and %d",
			op, total, DefaultMaxFields, DefaultMaxDocumentFields)
	}
	o := newOverlapCounter(schema, c.fragments, false, DefaultMaxDocumentFields, DefaultMaxOverlaps, DefaultMaxMismatchedOverlaps)
	if err := o.document(doc); err != nil || o.pairs != 0 {
		t.Errorf("introspection overlaps: %d pairs, error %v", o.pairs, err)
	}
}

func TestOverlapCounts(t *testing.T) {
	for _, tt := range []struct {
		query             string
		pairs, mismatched int
	}{
		{`{ user(id: 1) { id name } }`, 0, 0},
		{`{ user(id: 1) { id id id } }`, 3, 0},
		{`{ user(id: 1) { a: id a: name } }`, 1, 1},
		{`{ a: user(id: 1) { id } a: user(id: 1) { id } }`, 2, 0},            // a, then the merged ids
		{`{ a: user(id: 1) { id } a: user(id: 2) { id } }`, 2, 1},            // arguments differ
		{`{ a: user(id: $x) { id } a: user(id: $x) { id } }`, 2, 0},          // the same variable
		{`{ user(id: 1) { ...F ...F id } } fragment F on User { id }`, 2, 0}, // F once; two spreads
		{`{ user(id: 1) { ...F ...G } } fragment F on User { id } fragment G on User { id }`, 2, 0},
		{`{ user(id: 1) { ... on User { id } id } }`, 1, 0},
		{`{ user(id: 1) { friend { x: id } friend { x: name } } }`, 2, 1},
		// A fragment reached through a chain is one spread, not pairs.
		{`{ user(id: 1) { ...A } } fragment A on User { ...B } fragment B on User { id }`, 0, 0},
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
		if err != nil {
			t.Fatal(err)
		}
		o := newOverlapCounter(schema, fragmentIndex(doc.Fragments), false, 1000, 1000, 1000)
		for _, op := range doc.Operations {
			o.merged([]typedSet{{op.SelectionSet, schema.Query}})
		}
		if o.pairs != tt.pairs || o.mismatched != tt.mismatched {
			t.Errorf("%s: %d pairs, %d mismatched; want %d, %d", tt.query, o.pairs, o.mismatched, tt.pairs, tt.mismatched)
		}
	}
}

func TestArgKey(t *testing.T) {
	key := func(q string) string {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		o := newOverlapCounter(nil, nil, false, 0, 0, 0)
		return o.argKey(doc.Operations[0].SelectionSet[0].(*ast.Field))
	}
	same := [][2]string{
		{`{ f(a: 1, b: "x") }`, `{ f(b: "x", a: 1) }`},
		{`{ f(o: {x: 1, y: [1, 2]}) }`, `{ f(o: {y: [1, 2], x: 1}) }`},
		{`{ f(a: $v) }`, `{ f(a: $v) }`},
	}
	different := [][2]string{
		{`{ f(a: 1) }`, `{ f(a: 2) }`},
		{`{ f(a: 1) }`, `{ f(a: "1") }`},
		{`{ f(a: 1) }`, `{ f(b: 1) }`},
		{`{ f(a: [1, 2]) }`, `{ f(a: [2, 1]) }`},
		{`{ f(o: {x: 1}) }`, `{ f(o: {x: 1, y: 2}) }`},
		{`{ f(a: 1) }`, `{ f }`},
		{`{ f(a: $v) }`, `{ f(a: v) }`},
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%s and %s: different keys", p[0], p[1])
		}
	}
	for _, p := range different {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s: the same key", p[0], p[1])
		}
	}
}
