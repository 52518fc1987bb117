package limits

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// naiveShape is the walker Shape used before it memoized fragments: it
// walks the expanded tree, so it is the reference for what Shape measures.
type naiveShape struct {
	fragments ast.FragmentDefinitionList
	visiting  map[string]bool
	aliases   int
}

func (w *naiveShape) walk(set ast.SelectionSet, level int) int {
	deepest := level - 1
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(sel.Name, "__") {
				continue
			}
			if sel.Alias != "" && sel.Alias != sel.Name {
				w.aliases++
			}
			deepest = max(deepest, level, w.walk(sel.SelectionSet, level+1))
		case *ast.InlineFragment:
			deepest = max(deepest, w.walk(sel.SelectionSet, level))
		case *ast.FragmentSpread:
			f := w.fragments.ForName(sel.Name)
			if f == nil || w.visiting[sel.Name] {
				continue
			}
			w.visiting[sel.Name] = true
			deepest = max(deepest, w.walk(f.SelectionSet, level))
			delete(w.visiting, sel.Name)
		}
	}
	return deepest
}

// smallBomb is a fragment bomb small enough for the naive walker, with
// aliases and nesting at every level so both counts have work to do.
func smallBomb(levels, fanout int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query { ...F%d }\nfragment F0 on Query { a: user(id: 1) { id b: name } }\n", levels)
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "fragment F%d on Query { x%d: user(id: %d) { friend { ...U } } ", l, l, l)
		for range fanout {
			fmt.Fprintf(&b, "...F%d ", l-1)
		}
		b.WriteString("}\n")
	}
	b.WriteString("fragment U on User { events { user { id } } }\n")
	return b.String()
}

func TestShapeMatchesNaiveWalk(t *testing.T) {
	docs := []string{
		`{ user(id: 1) { id } }`,
		`{ a: user(id: 1) { b: friend { c: friend { id } } } d: event(id: 2) { user { e: name } } }`,
		`query { user(id: 1) { ...F ...G } } fragment F on User { events { user { ...G } } } fragment G on User { x: friend { y: id } }`,
		`{ user(id: 1) { ... on User { friend { ... { a: id b: name } } } } }`,
		`{ __schema { types { name } } a: user(id: 1) { __typename b: id } }`,
		`query A { user(id: 1) { ...F } } query B { event(id: 1) { id } } fragment F on User { friend { friend { id } } }`,
		`query { user(id: 1) { ...Missing id } }`,
		smallBomb(3, 2),
		smallBomb(4, 3),
		smallBomb(6, 2),
	}
	for _, q := range docs {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, op := range doc.Operations {
			naive := naiveShape{fragments: doc.Fragments, visiting: map[string]bool{}}
			depth := naive.walk(op.SelectionSet, 1)
			m := shapeMeter{fragments: fragmentIndex(doc.Fragments), memo: map[string]shape{}}
			got := m.selectionSet(op.SelectionSet)
			if got.depth != depth || got.aliases != naive.aliases {
				t.Errorf("%.60q: memoized depth %d, aliases %d; naive depth %d, aliases %d",
					q, got.depth, got.aliases, depth, naive.aliases)
			}
		}
	}
}

// TestShapeOnBombs shows Shape answers a bomb's depth and alias count
// without expanding it, the alias count saturating instead of wrapping
// round under the limit.
func TestShapeOnBombs(t *testing.T) {
	for _, tt := range []struct {
		levels, fanout int
		limit          Shape
		wantCode       string
	}{
		{20, 50, Shape{MaxAliases: 1000}, CodeAliases},
		{60, 50, Shape{MaxAliases: 1000}, CodeAliases}, // 50^60 aliases: saturates
		{60, 50, Shape{MaxDepth: 5}, ""},               // user friend events user id
		{60, 50, Shape{MaxDepth: 4}, CodeDepth},
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: smallBomb(tt.levels, tt.fanout)})
		if err != nil {
			t.Fatal(err)
		}
		err2 := tt.limit.MutateOperationContext(context.Background(), &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]})
		switch {
		case tt.wantCode == "" && err2 != nil:
			t.Errorf("%+v: rejected: %v", tt, err2)
		case tt.wantCode != "" && (err2 == nil || err2.Extensions["code"] != tt.wantCode):
			t.Errorf("%+v: got %v; want %s", tt, err2, tt.wantCode)
		}
	}
}
