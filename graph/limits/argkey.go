package limits

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// argKey spells f's arguments so that two fields get the same key exactly
// when gqlparser's sameArguments finds them equal: arguments and input
// object fields in any order, list items in order. It is cached, so a field
// in a fragment spread many times is spelled once.
func (o *overlapCounter) argKey(f *ast.Field) string {
	if len(f.Arguments) == 0 {
		return ""
	}
	if k, ok := o.argKeys[f]; ok {
		return k
	}
	args := slices.Clone(f.Arguments)
	slices.SortStableFunc(args, func(a, b *ast.Argument) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	for _, a := range args {
		writeQuoted(&b, a.Name)
		writeValue(&b, a.Value)
	}
	k := b.String()
	o.argKeys[f] = k
	return k
}

func writeValue(b *strings.Builder, v *ast.Value) {
	if v == nil {
		b.WriteString("~")
		return
	}
	b.WriteString(strconv.Itoa(int(v.Kind)))
	writeQuoted(b, v.Raw)
	children := v.Children
	if v.Kind == ast.ObjectValue {
		children = slices.Clone(children)
		slices.SortStableFunc(children, func(a, b *ast.ChildValue) int { return strings.Compare(a.Name, b.Name) })
	}
	b.WriteString("[")
	for _, c := range children {
		writeQuoted(b, c.Name)
		writeValue(b, c.Value)
	}
	b.WriteString("]")
}

// writeQuoted writes s length-prefixed, so no two spellings run together.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteString(":")
	b.WriteString(s)
}
