package limits

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityStatsKey is where gqlgen's ComplexityLimit keeps its stats, so
// extension.GetComplexityStats reads this extension's as it read gqlgen's.
const complexityStatsKey = "ComplexityLimit"

// Complexity replaces gqlgen's extension.FixedComplexityLimit: same
// complexity, same error code and message, same stats, but computed in time
// linear in the document. gqlgen's complexity.Calculate walks every fragment
// again at every spread: the audit's bomb took it 1.8s at seven levels and
// ten times longer at each level more. Behind Expansion that walk would be
// bounded too, but only by the expansion limit, and only where Expansion
// runs; this computes each fragment once and needs neither. Zero Limit
// disables the check.
//
// Use a pointer, as for gqlgen's: Validate keeps the executable schema.
type Complexity struct {
	// Limit is the most complexity an operation may have (CodeComplexity).
	Limit int

	es graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &Complexity{}

// ExtensionName implements graphql.HandlerExtension. It is gqlgen's name,
// as this stands in for gqlgen's extension.
func (*Complexity) ExtensionName() string { return complexityStatsKey }

// Validate implements graphql.HandlerExtension; it keeps es, whose
// Complexity method prices each field.
func (c *Complexity) Validate(es graphql.ExecutableSchema) error {
	if c.Limit < 0 {
		return fmt.Errorf("limits.Complexity: Limit %d is negative", c.Limit)
	}
	c.es = es
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator. It runs
// after validation, once the request's variables are known: arguments, and
// so the cost of a field, may depend on them.
func (c *Complexity) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if c.Limit == 0 || oc.Operation == nil {
		return nil
	}
	n := CalculateComplexity(ctx, c.es, oc.Operation, oc.Variables)
	oc.Stats.SetExtension(complexityStatsKey, &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.Limit})
	if n > c.Limit {
		return limitError(CodeComplexity, fmt.Sprintf("operation has complexity %d, which exceeds the limit of %d", n, c.Limit))
	}
	return nil
}

// CalculateComplexity returns what gqlgen's complexity.Calculate returns
// with its default options, for an operation of a validated document, in
// time linear in the document.
//
// Memoizing a fragment by its definition is exact: validation annotates
// each field of a fragment with the object type of the fragment's type
// condition, whatever the spread site, so the fragment's fields, their
// prices and their arguments are the same at every spread. Only variables
// change between requests, and this runs once per request.
func CalculateComplexity(ctx context.Context, es graphql.ExecutableSchema, op *ast.OperationDefinition, vars map[string]any) int {
	w := complexityWalker{
		ctx:    ctx,
		es:     es,
		schema: es.Schema(),
		vars:   vars,
	}
	return w.selectionSet(op.SelectionSet)
}

type complexityWalker struct {
	ctx    context.Context
	es     graphql.ExecutableSchema
	schema *ast.Schema
	vars   map[string]any
	// fragments is made at the first spread: this runs on every request,
	// and most operations spread none.
	fragments map[*ast.FragmentDefinition]int
}

func (w *complexityWalker) selectionSet(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n = safeAdd(n, w.field(sel))
		case *ast.FragmentSpread:
			n = safeAdd(n, w.fragment(sel.Definition))
		case *ast.InlineFragment:
			n = safeAdd(n, w.selectionSet(sel.SelectionSet))
		}
	}
	return n
}

func (w *complexityWalker) field(f *ast.Field) int {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return 0 // not validated; gqlgen would panic here
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	if typ == nil || typ.Name == "__Schema" {
		return 0
	}
	child := 0
	switch typ.Kind {
	case ast.Object, ast.Interface, ast.Union:
		child = w.selectionSet(f.SelectionSet)
	}
	// A field the schema gives no arguments gets nil rather than the empty
	// map ArgumentMap would allocate: they read the same, and this runs for
	// every field of every request.
	var args map[string]any
	if len(f.Definition.Arguments) > 0 {
		args = f.ArgumentMap(w.vars)
	}
	if f.ObjectDefinition.Kind != ast.Interface {
		return w.fieldCost(f.ObjectDefinition, typ.Kind, f.Name, child, args)
	}
	// An interface has no field costs of its own: gqlgen assumes the most
	// expensive implementation.
	most := 0
	for _, t := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
		most = max(most, w.fieldCost(t, typ.Kind, f.Name, child, args))
	}
	return most
}

func (w *complexityWalker) fieldCost(obj *ast.Definition, kind ast.DefinitionKind, field string, child int, args map[string]any) int {
	if n, ok := w.es.Complexity(w.ctx, obj.Name, field, child, args); ok && n >= 1 {
		return n
	}
	// gqlgen's default: one for the field (scalars and enums included, with
	// its default options) plus what it selects.
	return safeAdd(1, child)
}

// fragment returns a fragment's complexity, computed at its first spread.
// Validation rejects fragment cycles before this runs; one met anyway counts
// nothing, to stay finite.
func (w *complexityWalker) fragment(def *ast.FragmentDefinition) int {
	if def == nil {
		return 0
	}
	if n, ok := w.fragments[def]; ok {
		return max(n, 0)
	}
	if w.fragments == nil {
		w.fragments = map[*ast.FragmentDefinition]int{}
	}
	w.fragments[def] = inProgress
	n := w.selectionSet(def.SelectionSet)
	w.fragments[def] = n
	return n
}

// safeAdd is gqlgen's complexity addition, copied so results match to the
// unit: it ignores a negative operand (a custom complexity function's bug)
// and saturates rather than overflow into a small number.
func safeAdd(a, b int) int {
	if a < 0 {
		if b < 0 {
			return 1
		}
		return b
	} else if b < 0 {
		return a
	}
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
