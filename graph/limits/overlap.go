package limits

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// overlapCounter counts, for every definition of a document, the pairs
// gqlparser's OverlappingFieldsCanBeMerged rule compares: within each
// selection set as it executes (inline fragments and fragment spreads
// merged in, the sub-selections of fields sharing a response name merged
// together), every pair of fields sharing a response name and every pair of
// fragment spreads. That rule is quadratic in those, and the one validation
// cost the expansion bound leaves quadratic.
//
// It walks the expanded document, so it only runs once the expansion count
// has bounded that walk; budget stops it regardless on a cyclic document,
// where that count is not an upper bound.
type overlapCounter struct {
	schema        *ast.Schema
	fragments     map[string]*ast.FragmentDefinition
	cyclic        bool
	budget        int
	maxPairs      int
	maxMismatched int

	// onPath holds the fragments merged into the selection set being
	// collected and, in a cyclic document, into every enclosing one.
	onPath  map[string]bool
	argKeys map[*ast.Field]string
	visited int
	pairs   int
	// mismatched counts pairs that differ in field, arguments or parent
	// type: those that can be conflicts, each reported as its own error.
	mismatched int
	err        *gqlerror.Error
}

func newOverlapCounter(schema *ast.Schema, fragments map[string]*ast.FragmentDefinition, cyclic bool, budget, maxPairs, maxMismatched int) *overlapCounter {
	return &overlapCounter{
		schema:        schema,
		fragments:     fragments,
		cyclic:        cyclic,
		budget:        budget,
		maxPairs:      maxPairs,
		maxMismatched: maxMismatched,
		onPath:        map[string]bool{},
		argKeys:       map[*ast.Field]string{},
	}
}

// typedSet is a selection set and the type it selects on (nil: unknown).
type typedSet struct {
	set    ast.SelectionSet
	parent *ast.Definition
}

// typedField is a field and the type it is selected on.
type typedField struct {
	field  *ast.Field
	parent *ast.Definition
}

func (o *overlapCounter) document(doc *ast.QueryDocument) *gqlerror.Error {
	for _, op := range doc.Operations {
		if o.merged([]typedSet{{op.SelectionSet, o.rootType(op.Operation)}}); o.err != nil {
			return o.err
		}
	}
	for _, f := range doc.Fragments {
		if o.merged([]typedSet{{f.SelectionSet, o.typeNamed(f.TypeCondition)}}); o.err != nil {
			return o.err
		}
	}
	return nil
}

// merged counts the pairs in the selection set that sets execute as, then
// in each merged sub-selection.
func (o *overlapCounter) merged(sets []typedSet) {
	var c collection
	for _, s := range sets {
		o.collect(s.set, s.parent, &c, true)
	}
	unmark := func() {
		for _, name := range c.marked {
			delete(o.onPath, name)
		}
	}
	if o.cyclic {
		// Cut cycles: a fragment is merged in once per path. That undercounts
		// what executes, but validation rejects the document anyway.
		defer unmark()
	} else {
		// A fragment may legitimately reappear deeper down.
		unmark()
	}
	if o.visited > o.budget {
		o.err = limitError(CodeFields, fmt.Sprintf(
			"the document's fragment cycles expand to more than %d fields and fragment spreads", o.budget))
		return
	}
	// The rule compares each two fragments spread side by side, then every
	// fragment one of them reaches with every fragment the other reaches.
	o.pairs = add(o.pairs, (c.closures*c.closures-c.closureSquares)/2)
	if o.exceeded(sets[0].set) {
		return
	}
	for _, g := range groupByResponseName(c.fields) {
		o.countPairs(g)
		if o.exceeded(ast.SelectionSet{g[len(g)-1].field}) {
			return
		}
		if len(g) == 1 {
			// The common case, without allocating a slice for one set.
			if len(g[0].field.SelectionSet) > 0 {
				o.merged([]typedSet{{g[0].field.SelectionSet, o.fieldType(g[0])}})
			}
		} else {
			children := make([]typedSet, 0, len(g))
			for _, f := range g {
				if len(f.field.SelectionSet) > 0 {
					children = append(children, typedSet{f.field.SelectionSet, o.fieldType(f)})
				}
			}
			if len(children) > 0 {
				o.merged(children)
			}
		}
		if o.err != nil {
			return
		}
	}
}

// collection is what collect gathers of one merged selection set.
type collection struct {
	fields []typedField
	// marked are the fragments collect put on the path.
	marked []string
	// spreads counts the fragment spreads met, at any depth of fragments.
	spreads int
	// closures and closureSquares sum, over the spreads met outside any
	// fragment, the spreads each one's fragment reaches (itself included),
	// and their squares.
	closures, closureSquares int
}

// collect gathers the fields set selects on parent, inline fragments and
// fragment spreads flattened, each fragment once per merged selection set,
// as both execution and validation take it. top says set is not inside a
// fragment.
func (o *overlapCounter) collect(set ast.SelectionSet, parent *ast.Definition, c *collection, top bool) {
	for _, sel := range set {
		o.visited++
		switch sel := sel.(type) {
		case *ast.Field:
			c.fields = append(c.fields, typedField{sel, parent})
		case *ast.InlineFragment:
			t := parent
			if sel.TypeCondition != "" {
				t = o.typeNamed(sel.TypeCondition)
			}
			o.collect(sel.SelectionSet, t, c, top)
		case *ast.FragmentSpread:
			before := c.spreads
			c.spreads++
			if f := o.fragments[sel.Name]; f != nil && !o.onPath[sel.Name] {
				o.onPath[sel.Name] = true
				c.marked = append(c.marked, sel.Name)
				o.collect(f.SelectionSet, o.typeNamed(f.TypeCondition), c, false)
			}
			if top {
				n := c.spreads - before
				c.closures += n
				c.closureSquares += n * n
			}
		}
	}
}

// groupByResponseName groups fields by response name, in the order names
// first appear.
func groupByResponseName(fields []typedField) [][]typedField {
	groups := make([][]typedField, 0, len(fields))
	if len(fields) <= 16 {
		// Most selection sets are this small, and a scan beats a map there.
	next:
		for _, f := range fields {
			name := responseName(f.field)
			for i, g := range groups {
				if responseName(g[0].field) == name {
					groups[i] = append(g, f)
					continue next
				}
			}
			groups = append(groups, []typedField{f})
		}
		return groups
	}
	index := make(map[string]int, len(fields))
	for _, f := range fields {
		name := responseName(f.field)
		if i, ok := index[name]; ok {
			groups[i] = append(groups[i], f)
			continue
		}
		index[name] = len(groups)
		groups = append(groups, []typedField{f})
	}
	return groups
}

func responseName(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

// countPairs adds g's pairs, and those of them that may be conflicts.
// Fields alike in name, arguments and parent type cannot conflict; any
// other pair may, unless their parents are distinct object types, which is
// left out of the count to err on the side of counting.
func (o *overlapCounter) countPairs(g []typedField) {
	k := len(g)
	if k < 2 {
		return
	}
	o.pairs = add(o.pairs, k*(k-1)/2)
	type likeness struct {
		name, args string
		parent     *ast.Definition
	}
	alike := map[likeness]int{}
	for _, f := range g {
		alike[likeness{f.field.Name, o.argKey(f.field), f.parent}]++
	}
	differing := k * (k - 1) / 2
	for _, n := range alike {
		differing -= n * (n - 1) / 2
	}
	o.mismatched = add(o.mismatched, differing)
}

// exceeded sets o.err, located at the start of at, once a count passes
// its limit.
func (o *overlapCounter) exceeded(at ast.SelectionSet) bool {
	switch {
	case o.mismatched > o.maxMismatched:
		o.err = limitError(CodeOverlaps, fmt.Sprintf(
			"the document selects more than %d pairs of fields that share a response name but differ in field, arguments or type; give them distinct aliases",
			o.maxMismatched))
	case o.pairs > o.maxPairs:
		o.err = limitError(CodeOverlaps, fmt.Sprintf(
			"the document selects more than %d pairs of fields sharing a response name, or of fragments spread side by side, in one selection set; select each field and spread each fragment once",
			o.maxPairs))
	default:
		return false
	}
	if len(at) > 0 {
		setPosition(o.err, at[0].GetPosition())
	}
	return true
}

func (o *overlapCounter) rootType(op ast.Operation) *ast.Definition {
	if o.schema == nil {
		return nil
	}
	switch op {
	case ast.Mutation:
		return o.schema.Mutation
	case ast.Subscription:
		return o.schema.Subscription
	}
	return o.schema.Query
}

func (o *overlapCounter) typeNamed(name string) *ast.Definition {
	if o.schema == nil {
		return nil
	}
	return o.schema.Types[name]
}

// fieldType is the type f's sub-selection selects on, as validation
// resolves it.
func (o *overlapCounter) fieldType(f typedField) *ast.Definition {
	if f.parent == nil {
		return nil
	}
	def := f.parent.Fields.ForName(f.field.Name)
	if def == nil {
		return nil
	}
	return o.typeNamed(def.Type.Name())
}
