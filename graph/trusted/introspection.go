package trusted

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// introspectionOnly reports whether every operation of query asks only for
// __schema, __type and __typename at its root (through fragments, each
// fragment once). A query that does not parse is not.
func introspectionOnly(query string, tokenLimit int) bool {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, tokenLimit)
	if err != nil || len(doc.Operations) == 0 {
		return false
	}
	for _, op := range doc.Operations {
		if !metaOnly(op.SelectionSet, doc.Fragments, map[string]bool{}) {
			return false
		}
	}
	return true
}

func metaOnly(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen map[string]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(sel.Name, "__") {
				return false
			}
		case *ast.InlineFragment:
			if !metaOnly(sel.SelectionSet, frags, seen) {
				return false
			}
		case *ast.FragmentSpread:
			if seen[sel.Name] {
				continue
			}
			seen[sel.Name] = true
			f := frags.ForName(sel.Name)
			if f == nil || !metaOnly(f.SelectionSet, frags, seen) {
				return false
			}
		}
	}
	return true
}
