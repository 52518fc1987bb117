// Package gqllimit is a gqlgen extension that rejects hostile query shapes
// gqlgen has no built-in limit for: selection depth and alias count.
// (Complexity and token limits are gqlgen's own: extension.ComplexityLimit
// and Server.SetParserTokenLimit.)
package gqllimit

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes a rejected operation carries in extensions.code.
const (
	CodeDepth   = "QUERY_TOO_DEEP"
	CodeAliases = "TOO_MANY_ALIASES"
)

// Shape limits an operation's depth and number of aliases; zero disables a
// limit. Introspection fields (__schema, __type) are not counted, so IDEs
// keep working under a tight depth limit.
type Shape struct {
	MaxDepth   int
	MaxAliases int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Shape{}

// ExtensionName implements graphql.HandlerExtension.
func (Shape) ExtensionName() string { return "QueryShapeLimit" }

// Validate implements graphql.HandlerExtension.
func (Shape) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext runs after parsing and validation, before execution.
func (s Shape) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := walker{fragments: oc.Doc.Fragments, visiting: map[string]bool{}}
	depth := w.walk(oc.Operation.SelectionSet, 1)
	if s.MaxDepth > 0 && depth > s.MaxDepth {
		return limitError(CodeDepth, fmt.Sprintf("query depth %d exceeds the limit of %d", depth, s.MaxDepth))
	}
	if s.MaxAliases > 0 && w.aliases > s.MaxAliases {
		return limitError(CodeAliases, fmt.Sprintf("query uses %d aliases; the limit is %d", w.aliases, s.MaxAliases))
	}
	return nil
}

func limitError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

type walker struct {
	fragments ast.FragmentDefinitionList
	visiting  map[string]bool
	aliases   int
}

// walk returns the depth of set, whose fields sit at level, counting aliases
// on the way. Validation already rejected fragment cycles; visiting guards anyway.
func (w *walker) walk(set ast.SelectionSet, level int) int {
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
