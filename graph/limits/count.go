package limits

import "github.com/vektah/gqlparser/v2/ast"

// inProgress marks a fragment whose count is being computed: meeting it
// again means a fragment cycle.
const inProgress = -1

// expansionCounter counts expanded selections, each fragment once.
type expansionCounter struct {
	fragments map[string]*ast.FragmentDefinition
	counts    map[string]int
	// cyclic records that some fragment spreads itself, directly or not.
	cyclic bool
}

// selectionSet counts set's selections with their arguments and directives:
// the validator walks those anew for every definition that reaches them,
// so a fragment with a long list argument, spread from many operations,
// is as costly as one with as many fields.
func (c *expansionCounter) selectionSet(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n = add(n, 1+argumentsSize(sel.Arguments)+directivesSize(sel.Directives))
			n = add(n, c.selectionSet(sel.SelectionSet))
		case *ast.InlineFragment:
			n = add(n, 1+directivesSize(sel.Directives))
			n = add(n, c.selectionSet(sel.SelectionSet))
		case *ast.FragmentSpread:
			n = add(n, 1+directivesSize(sel.Directives))
			n = add(n, c.fragment(sel.Name))
		}
	}
	return n
}

// fragment returns what the named fragment expands to. A cycle counts as
// nothing beyond its spreads: validation rejects it anyway, and any finite
// answer keeps this walk from looping.
func (c *expansionCounter) fragment(name string) int {
	if n, ok := c.counts[name]; ok {
		if n == inProgress {
			c.cyclic = true
			return 0
		}
		return n
	}
	f := c.fragments[name]
	if f == nil {
		return 0
	}
	c.counts[name] = inProgress
	n := add(directivesSize(f.Directives), c.selectionSet(f.SelectionSet))
	c.counts[name] = n
	return n
}

// directivesSize counts directives and their argument values. Neither can
// be large for long without the document being so: they are linear in it.
func directivesSize(list ast.DirectiveList) int {
	n := len(list)
	for _, d := range list {
		n += argumentsSize(d.Arguments)
	}
	return n
}

// argumentsSize counts the value nodes of arguments: every list item and
// input object field counts one.
func argumentsSize(args ast.ArgumentList) int {
	n := 0
	for _, a := range args {
		n += valueSize(a.Value)
	}
	return n
}

func valueSize(v *ast.Value) int {
	if v == nil {
		return 0
	}
	n := 1
	for _, c := range v.Children {
		n += valueSize(c.Value)
	}
	return n
}
