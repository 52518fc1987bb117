package limits

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func init() {
	// A refused introspection is a request error: 400 (or 200 with
	// application/json), like a validation failure, not a field error.
	errcode.RegisterErrorType(CodeIntrospectionDisabled, errcode.KindProtocol)
}

// NoIntrospection refuses, before execution, an operation that asks for
// __schema or __type while introspection is off, with the code
// INTROSPECTION_DISABLED. Without it gqlgen resolves those fields to an
// uncoded field error. Use it after extension.Introspection (which turns
// introspection on per operation) so that it sees the operation's setting.
type NoIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = NoIntrospection{}

// ExtensionName implements graphql.HandlerExtension.
func (NoIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate implements graphql.HandlerExtension.
func (NoIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (NoIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if !oc.DisableIntrospection || oc.Operation == nil {
		return nil
	}
	if asksIntrospection(oc.Operation.SelectionSet, oc.Doc.Fragments, map[string]bool{}) {
		err := gqlerror.Errorf("introspection is disabled on this server")
		errcode.Set(err, CodeIntrospectionDisabled)
		return err
	}
	return nil
}

// asksIntrospection looks at the root selection only (where __schema and
// __type live), through fragments, each fragment once.
func asksIntrospection(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen map[string]bool) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__schema" || sel.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(sel.SelectionSet, frags, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[sel.Name] {
				continue
			}
			seen[sel.Name] = true
			if f := frags.ForName(sel.Name); f != nil && asksIntrospection(f.SelectionSet, frags, seen) {
				return true
			}
		}
	}
	return false
}
