package limits

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Shape limits an operation's depth and number of aliases; zero disables a
// limit. Introspection fields (__schema, __type) are not counted, so IDEs
// keep working under a tight depth limit.
//
// Both are measured on the operation as executed, fragments expanded, yet
// in time linear in the document: a fragment's depth below the level it is
// spread at, and the aliases it expands to, do not depend on where it is
// spread, so each fragment is measured once.
type Shape struct {
	// MaxDepth bounds the levels of nested fields (CodeDepth).
	MaxDepth int
	// MaxAliases bounds the aliases in the expanded operation, an alias
	// equal to its field's name not counted (CodeAliases).
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
	if oc.Operation == nil || (s.MaxDepth <= 0 && s.MaxAliases <= 0) {
		return nil
	}
	m := shapeMeter{fragments: fragmentIndex(oc.Doc.Fragments), memo: map[string]shape{}}
	sh := m.selectionSet(oc.Operation.SelectionSet)
	if s.MaxDepth > 0 && sh.depth > s.MaxDepth {
		return limitError(CodeDepth, fmt.Sprintf("query depth %d exceeds the limit of %d", sh.depth, s.MaxDepth))
	}
	if s.MaxAliases > 0 && sh.aliases > s.MaxAliases {
		return limitError(CodeAliases, fmt.Sprintf("query uses %s aliases; the limit is %d", countString(sh.aliases), s.MaxAliases))
	}
	return nil
}

// shape is what a selection set contributes: the levels of fields it nests
// below the level it sits at, and the aliases in its expansion.
type shape struct {
	depth, aliases int
}

// shapeMeter measures selection sets, each fragment once.
type shapeMeter struct {
	fragments map[string]*ast.FragmentDefinition
	memo      map[string]shape
	// visiting holds the fragments being measured. Validation rejects
	// fragment cycles before this runs; this only keeps a walk of an
	// unvalidated document finite.
	visiting map[string]bool
}

func (m *shapeMeter) selectionSet(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var sh shape
		switch sel := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(sel.Name, "__") {
				continue
			}
			sh = m.selectionSet(sel.SelectionSet)
			sh.depth++
			if sel.Alias != "" && sel.Alias != sel.Name {
				sh.aliases = add(sh.aliases, 1)
			}
		case *ast.InlineFragment:
			sh = m.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			sh = m.fragment(sel.Name)
		}
		out.depth = max(out.depth, sh.depth)
		out.aliases = add(out.aliases, sh.aliases)
	}
	return out
}

func (m *shapeMeter) fragment(name string) shape {
	if sh, ok := m.memo[name]; ok {
		return sh
	}
	f := m.fragments[name]
	if f == nil || m.visiting[name] {
		return shape{}
	}
	if m.visiting == nil {
		m.visiting = map[string]bool{}
	}
	m.visiting[name] = true
	sh := m.selectionSet(f.SelectionSet)
	delete(m.visiting, name)
	m.memo[name] = sh
	return sh
}
