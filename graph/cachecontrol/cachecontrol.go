// Package cachecontrol is a gqlgen extension that turns the schema's
// @cacheControl hints into the HTTP cache policy of a GET query's answer
// (httpcache.Policy): the shortest maxAge of the fields the operation
// selects, private if any of them is, and no-store for mutations and for
// answers with errors. It follows Apollo Server's rules: a field's own hint
// wins, else its type's hint; a field returning an object, and a root
// field, without either are 0 (not cacheable); a scalar field without a
// hint inherits its parent's. Each fragment's policy is computed once, so
// the walk costs time linear in the document.
package cachecontrol

import (
	"context"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/httpcache"
)

// Extension computes the policy; use it as a pointer (Validate keeps the schema).
type Extension struct {
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = &Extension{}

// ExtensionName implements graphql.HandlerExtension.
func (*Extension) ExtensionName() string { return "CacheControl" }

// Validate implements graphql.HandlerExtension; it keeps the schema.
func (e *Extension) Validate(es graphql.ExecutableSchema) error {
	e.schema = es.Schema()
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator: it
// limits the request's policy by the operation's hints. Outside a GET
// there is no policy and nothing to do.
func (e *Extension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	p := httpcache.PolicyFrom(ctx)
	if p == nil || oc.Operation == nil {
		return nil
	}
	if oc.Operation.Operation != ast.Query {
		p.NoStore()
		return nil
	}
	w := walker{schema: e.schema, frags: oc.Doc.Fragments, memo: map[string]hint{}, busy: map[string]bool{}}
	root := e.schema.Query
	h := w.selection(oc.Operation.SelectionSet, root, true)
	if h.set { // root fields always set it; only a lone __typename does not
		p.Limit(time.Duration(h.maxAge)*time.Second, h.private)
	}
	return nil
}

// InterceptResponse implements graphql.ResponseInterceptor: an answer with
// errors is never stored.
func (e *Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		httpcache.PolicyFrom(ctx).NoStore()
	}
	return resp
}

// hint is a policy under construction: set once some field limited maxAge.
type hint struct {
	set     bool
	maxAge  int
	private bool
}

func (h hint) and(o hint) hint {
	switch {
	case !o.set:
	case !h.set || o.maxAge < h.maxAge:
		h.maxAge, h.set = o.maxAge, true
	}
	h.private = h.private || o.private
	return h
}

type walker struct {
	schema *ast.Schema
	frags  ast.FragmentDefinitionList
	memo   map[string]hint
	busy   map[string]bool
}

// selection is the policy of set, whose fields belong to typ.
func (w *walker) selection(set ast.SelectionSet, typ *ast.Definition, root bool) hint {
	var h hint
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			h = h.and(w.field(sel, typ, root))
		case *ast.InlineFragment:
			on := typ
			if sel.TypeCondition != "" {
				on = w.schema.Types[sel.TypeCondition]
			}
			h = h.and(w.selection(sel.SelectionSet, on, root))
		case *ast.FragmentSpread:
			h = h.and(w.fragment(sel.Name, root))
		}
	}
	return h
}

// fragment is a named fragment's policy, computed once per document (a
// fragment's policy does not depend on where it is spread).
func (w *walker) fragment(name string, root bool) hint {
	key := name
	if root {
		key = "root:" + name
	}
	if h, ok := w.memo[key]; ok || w.busy[key] {
		return h
	}
	f := w.frags.ForName(name)
	if f == nil {
		return hint{}
	}
	w.busy[key] = true
	h := w.selection(f.SelectionSet, w.schema.Types[f.TypeCondition], root)
	w.memo[key] = h
	delete(w.busy, key)
	return h
}

func (w *walker) field(f *ast.Field, parent *ast.Definition, root bool) hint {
	if parent == nil || len(f.Name) > 1 && f.Name[:2] == "__" {
		return hint{}
	}
	def := parent.Fields.ForName(f.Name)
	if def == nil {
		return hint{}
	}
	typ := w.schema.Types[def.Type.Name()]
	composite := typ != nil && typ.Kind != ast.Scalar && typ.Kind != ast.Enum
	own, ok := read(def.Directives)
	if !ok && composite {
		own, ok = read(typ.Directives)
	}
	switch {
	case ok && !own.set && (composite || root):
		// A scope-only hint on an object field still needs a maxAge.
		own.set, own.maxAge = true, 0
	case !ok && (composite || root):
		own = hint{set: true, maxAge: 0}
	}
	if composite {
		own = own.and(w.selection(f.SelectionSet, typ, false))
	}
	return own
}

// read returns the @cacheControl hint among dirs, if there is one.
func read(dirs ast.DirectiveList) (hint, bool) {
	d := dirs.ForName("cacheControl")
	if d == nil {
		return hint{}, false
	}
	var h hint
	if a := d.Arguments.ForName("maxAge"); a != nil && a.Value != nil {
		if n, err := strconv.Atoi(a.Value.Raw); err == nil {
			h.set, h.maxAge = true, n
		}
	}
	if a := d.Arguments.ForName("scope"); a != nil && a.Value != nil {
		h.private = a.Value.Raw == "PRIVATE"
	}
	return h, true
}
