package transport

import (
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// deferPlan says, for an operation with @defer (flattened: no @defer inside
// another), which response keys each deferred fragment alone selects, and
// where: the answer's first part must leave those out, and the fragment's
// part must hold them. gqlgen writes a deferred field that has a resolver
// as null in the first part and resolves a plain field at once; clients
// (Apollo Client 4 among them) read a null as "no events" and a field in the
// first part as not deferred.
type deferPlan struct {
	groups []*deferGroup
}

// deferGroup is the deferred fragments with one label at one place of the
// answer: gqlgen delivers them together.
type deferGroup struct {
	// pattern is the response keys from the root to the object the
	// fragments select on; list indices are not in it.
	pattern []string
	label   string
	// keys are the response keys only these fragments select there.
	keys []string
}

// newDeferPlan walks op once; fragments are walked once per place they are
// spread, within the bounds the expansion limit set (MAX_QUERY_FIELDS).
func newDeferPlan(op *ast.OperationDefinition, frags ast.FragmentDefinitionList, vars map[string]any) *deferPlan {
	p := &deferPlan{}
	p.level(op.SelectionSet, nil, frags, vars)
	return p
}

// level plans one selection set's level: the keys selected outside any
// deferred fragment, the deferred fragments' own keys, then the levels
// below the outside fields.
func (p *deferPlan) level(set ast.SelectionSet, pattern []string, frags ast.FragmentDefinitionList, vars map[string]any) {
	var outside []*ast.Field
	type deferred struct {
		label  string
		fields []*ast.Field
	}
	var defers []deferred
	var collect func(set ast.SelectionSet, into *[]*ast.Field, top bool)
	collect = func(set ast.SelectionSet, into *[]*ast.Field, top bool) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				*into = append(*into, sel)
			case *ast.InlineFragment:
				if label, ok := deferredBy(sel.Directives, vars); ok && top {
					d := deferred{label: label}
					collect(sel.SelectionSet, &d.fields, false)
					defers = append(defers, d)
					continue
				}
				collect(sel.SelectionSet, into, top)
			case *ast.FragmentSpread:
				f := frags.ForName(sel.Name)
				if f == nil {
					continue
				}
				if label, ok := deferredBy(sel.Directives, vars); ok && top {
					d := deferred{label: label}
					collect(f.SelectionSet, &d.fields, false)
					defers = append(defers, d)
					continue
				}
				collect(f.SelectionSet, into, top)
			}
		}
	}
	collect(set, &outside, true)
	seen := map[string]bool{}
	for _, f := range outside {
		seen[f.Alias] = true
	}
	for _, d := range defers {
		g := p.group(pattern, d.label)
		for _, f := range d.fields {
			if !seen[f.Alias] && !slices.Contains(g.keys, f.Alias) {
				g.keys = append(g.keys, f.Alias)
			}
		}
	}
	below := map[string]bool{}
	for _, f := range outside {
		if len(f.SelectionSet) > 0 && !below[f.Alias] {
			below[f.Alias] = true
			var sub ast.SelectionSet
			for _, g := range outside { // same-named fields merge
				if g.Alias == f.Alias {
					sub = append(sub, g.SelectionSet...)
				}
			}
			p.level(sub, append(slices.Clip(pattern), f.Alias), frags, vars)
		}
	}
}

func (p *deferPlan) group(pattern []string, label string) *deferGroup {
	for _, g := range p.groups {
		if g.label == label && slices.Equal(g.pattern, pattern) {
			return g
		}
	}
	g := &deferGroup{pattern: slices.Clone(pattern), label: label}
	p.groups = append(p.groups, g)
	return g
}

// deferredBy reports whether directives defer their fragment (a @defer
// whose if is not false), and its label.
func deferredBy(directives ast.DirectiveList, vars map[string]any) (label string, ok bool) {
	d := directives.ForName("defer")
	if d == nil {
		return "", false
	}
	args := d.ArgumentMap(vars)
	if on, set := args["if"].(bool); set && !on {
		return "", false
	}
	label, _ = args["label"].(string)
	return label, true
}
