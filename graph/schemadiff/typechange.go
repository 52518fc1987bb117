package schemadiff

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// outputType compares the type of a field, which the server produces and
// the client reads: the new type may promise more (nullable → non-null is
// safe) but not less.
func (d *differ) outputType(coord string, old, new *ast.Type) {
	if old.String() == new.String() {
		return
	}
	if why := outputBreak(old, new, 0); why != "" {
		d.report(Breaking, coord, "type changed from %s to %s: %s", old, new, why)
		return
	}
	d.report(Info, coord, "type changed from %s to %s (a result that promises more)", old, new)
}

// inputType compares the type of an argument or input field, which the
// client produces and the server reads: the new type may accept more
// (non-null → nullable is safe) but not less.
func (d *differ) inputType(coord string, old, new *ast.Type) {
	if old.String() == new.String() {
		return
	}
	if why := inputBreak(old, new, 0); why != "" {
		d.report(Breaking, coord, "type changed from %s to %s: %s", old, new, why)
		return
	}
	d.report(Info, coord, "type changed from %s to %s (an input that accepts more)", old, new)
}

// outputBreak says why a client reading a result of type old cannot rely
// on the same from new, or returns "" if it can. depth counts list levels.
func outputBreak(old, new *ast.Type, depth int) string {
	if old.NonNull && !new.NonNull {
		return "a non-null " + position("result", depth) + " made nullable"
	}
	return shapeBreak(old, new, depth, outputBreak)
}

// inputBreak says why a client sending a value of type old cannot send it
// for new, or returns "" if it can. A variable of a nullable type is not
// allowed where a non-null one is expected, so nullable → non-null breaks
// operations even when no client ever sends null.
func inputBreak(old, new *ast.Type, depth int) string {
	if new.NonNull && !old.NonNull {
		return "a nullable " + position("input", depth) + " made non-null"
	}
	return shapeBreak(old, new, depth, inputBreak)
}

func position(what string, depth int) string {
	if depth == 0 {
		return what
	}
	return "list item of the " + what
}

// shapeBreak compares what is left once nullability is settled: lists
// must stay lists (a variable of a list type is not allowed where a single
// value is, nor the reverse), and the named type must stay the same.
func shapeBreak(old, new *ast.Type, depth int, next func(old, new *ast.Type, depth int) string) string {
	switch {
	case old.Elem != nil && new.Elem != nil:
		return next(old.Elem, new.Elem, depth+1)
	case old.Elem != nil:
		return "a list made a single value"
	case new.Elem != nil:
		return "a single value made a list"
	case old.NamedType != new.NamedType:
		return "named type " + old.NamedType + " replaced by " + new.NamedType
	}
	return ""
}

// defaultValue compares the default of an argument or input field. A
// client that omits the value gets the default, so removing it makes a
// non-null input required (breaking) and changes what a nullable one means
// (dangerous), as does changing it.
func (d *differ) defaultValue(coord string, old, new *ast.Value, newType *ast.Type) {
	o, n := valueString(old), valueString(new)
	switch {
	case o == n:
	case o == "":
		d.report(Info, coord, "default value %s added", n)
	case n == "" && newType.NonNull:
		d.report(Breaking, coord, "default value %s removed; the input is now required", o)
	case n == "":
		d.report(Dangerous, coord, "default value %s removed; clients that omit it now get null", o)
	default:
		d.report(Dangerous, coord, "default value changed from %s to %s; clients that omit it get the new one", o, n)
	}
}

// valueString writes a constant value in one canonical form, so that two
// values equal in GraphQL compare equal as strings: object fields sorted,
// block strings as strings. A nil value is "".
func valueString(v *ast.Value) string {
	if v == nil {
		return ""
	}
	switch v.Kind {
	case ast.ListValue:
		items := make([]string, len(v.Children))
		for i, c := range v.Children {
			items[i] = valueString(c.Value)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case ast.ObjectValue:
		fields := make([]string, len(v.Children))
		for i, c := range v.Children {
			fields[i] = c.Name + ": " + valueString(c.Value)
		}
		slices.Sort(fields)
		return "{" + strings.Join(fields, ", ") + "}"
	case ast.BlockValue:
		plain := *v
		plain.Kind = ast.StringValue
		return plain.String()
	}
	return v.String()
}
