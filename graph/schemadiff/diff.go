package schemadiff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Options tune what Diff accepts.
type Options struct {
	// AllowRemovingDeprecated reports the removal of an element the baseline
	// deprecated (a field, argument, input field or enum value), and of a
	// type only such elements used, as Dangerous instead of Breaking: the
	// deprecation period is over and the retirement is deliberate.
	AllowRemovingDeprecated bool
}

// Diff returns every change from baseline to current, most severe first.
// Both schemas are as Load returns them; what the GraphQL prelude declares
// (built-in scalars and directives, introspection) is not compared.
func Diff(baseline, current *ast.Schema, opts Options) []Change {
	d := &differ{old: baseline, new: current, opts: opts}
	d.roots()
	d.types()
	d.directiveDefinitions()
	sortChanges(d.changes)
	return d.changes
}

// differ collects the changes of one comparison.
type differ struct {
	old, new *ast.Schema
	opts     Options
	changes  []Change
}

func (d *differ) report(sev Severity, coord, format string, args ...any) {
	d.changes = append(d.changes, Change{Severity: sev, Coordinate: coord, Message: fmt.Sprintf(format, args...)})
}

// roots compares the operation root types: operations name no type, so a
// root that moves to another type breaks every operation of its kind.
func (d *differ) roots() {
	for _, r := range []struct {
		op       string
		old, new *ast.Definition
	}{
		{"query", d.old.Query, d.new.Query},
		{"mutation", d.old.Mutation, d.new.Mutation},
		{"subscription", d.old.Subscription, d.new.Subscription},
	} {
		switch {
		case r.old == nil && r.new != nil:
			d.report(Info, "schema", "%s root type %s added", r.op, r.new.Name)
		case r.old != nil && r.new == nil:
			d.report(Breaking, "schema", "%s root type %s removed", r.op, r.old.Name)
		case r.old != nil && r.old.Name != r.new.Name:
			d.report(Breaking, "schema", "%s root type changed from %s to %s", r.op, r.old.Name, r.new.Name)
		}
	}
}

// declared reports whether the schema's own source declares def, rather
// than gqlparser's prelude (built-in scalars, introspection types).
func declared(def *ast.Definition) bool {
	return !def.BuiltIn && !strings.HasPrefix(def.Name, "__")
}

func sortedNames[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func (d *differ) types() {
	for _, name := range sortedNames(d.old.Types) {
		o := d.old.Types[name]
		if !declared(o) {
			continue
		}
		n := d.new.Types[name]
		if n == nil {
			d.typeRemoved(o)
			continue
		}
		if o.Kind != n.Kind {
			d.report(Breaking, name, "kind changed from %s to %s", o.Kind, n.Kind)
			continue
		}
		d.described(name, o.Description, n.Description)
		d.directiveUses(name, o.Directives, n.Directives)
		switch o.Kind {
		case ast.Object, ast.Interface:
			d.interfaces(name, o.Interfaces, n.Interfaces)
			d.fields(name, o.Fields, n.Fields)
		case ast.Union:
			d.unionMembers(name, o.Types, n.Types)
		case ast.Enum:
			d.enumValues(name, o.EnumValues, n.EnumValues)
		case ast.InputObject:
			d.oneOf(name, o.Directives, n.Directives)
			d.inputFields(name, o.Fields, n.Fields)
		}
	}
	for _, name := range sortedNames(d.new.Types) {
		if n := d.new.Types[name]; declared(n) && d.old.Types[name] == nil {
			d.report(Info, name, "type added (%s)", n.Kind)
		}
	}
}

func (d *differ) typeRemoved(def *ast.Definition) {
	if d.opts.AllowRemovingDeprecated && onlyDeprecatedUse(d.old, def.Name) {
		d.report(Dangerous, def.Name, "type removed; only deprecated fields and arguments used it")
		return
	}
	d.report(Breaking, def.Name, "type removed")
}

// onlyDeprecatedUse reports whether every use of the named type in s is
// the type of a deprecated field, argument or input field, so removing
// those with their type is one retirement. An unused type is not: clients
// may name it in fragments or variables.
func onlyDeprecatedUse(s *ast.Schema, name string) bool {
	uses := 0
	for _, def := range s.Types {
		if !declared(def) {
			continue
		}
		if slices.Contains(def.Types, name) || slices.Contains(def.Interfaces, name) {
			return false
		}
		for _, f := range def.Fields {
			if f.Type.Name() == name {
				if !deprecated(f.Directives) {
					return false
				}
				uses++
			}
			for _, a := range f.Arguments {
				if a.Type.Name() == name {
					if !deprecated(a.Directives) && !deprecated(f.Directives) {
						return false
					}
					uses++
				}
			}
		}
	}
	for _, dir := range s.Directives {
		for _, a := range dir.Arguments {
			if a.Type.Name() == name {
				return false
			}
		}
	}
	return uses > 0
}

// interfaces compares the interfaces an object or interface implements:
// a fragment on a dropped interface no longer matches the type.
func (d *differ) interfaces(typeName string, olds, news []string) {
	for _, i := range olds {
		if !slices.Contains(news, i) {
			d.report(Breaking, typeName, "no longer implements %s", i)
		}
	}
	for _, i := range news {
		if !slices.Contains(olds, i) {
			d.report(Dangerous, typeName, "now implements %s; clients that switch over %s's types may not expect it", i, i)
		}
	}
}

// fields compares the fields of an object or interface: output positions.
func (d *differ) fields(typeName string, olds, news ast.FieldList) {
	for _, o := range olds {
		if strings.HasPrefix(o.Name, "__") {
			continue
		}
		coord := typeName + "." + o.Name
		n := news.ForName(o.Name)
		if n == nil {
			d.removed(coord, "field", o.Directives)
			continue
		}
		d.described(coord, o.Description, n.Description)
		d.deprecation(coord, o.Directives, n.Directives)
		d.directiveUses(coord, o.Directives, n.Directives)
		d.outputType(coord, o.Type, n.Type)
		d.arguments(coord, o.Arguments, n.Arguments)
	}
	for _, n := range news {
		if !strings.HasPrefix(n.Name, "__") && olds.ForName(n.Name) == nil {
			d.report(Info, typeName+"."+n.Name, "field added")
		}
	}
}

// arguments compares the arguments of a field or directive: input
// positions. owner is the field's or directive's coordinate.
func (d *differ) arguments(owner string, olds, news ast.ArgumentDefinitionList) {
	for _, o := range olds {
		coord := owner + "(" + o.Name + ":)"
		n := news.ForName(o.Name)
		if n == nil {
			d.removed(coord, "argument", o.Directives)
			continue
		}
		d.described(coord, o.Description, n.Description)
		d.deprecation(coord, o.Directives, n.Directives)
		d.directiveUses(coord, o.Directives, n.Directives)
		d.inputType(coord, o.Type, n.Type)
		d.defaultValue(coord, o.DefaultValue, n.DefaultValue, n.Type)
	}
	for _, n := range news {
		if olds.ForName(n.Name) != nil {
			continue
		}
		coord := owner + "(" + n.Name + ":)"
		if required(n.Type, n.DefaultValue) {
			d.report(Breaking, coord, "required argument added; operations that do not give it fail")
		} else {
			d.report(Info, coord, "optional argument added")
		}
	}
}

// inputFields compares the fields of an input object: input positions.
func (d *differ) inputFields(typeName string, olds, news ast.FieldList) {
	for _, o := range olds {
		coord := typeName + "." + o.Name
		n := news.ForName(o.Name)
		if n == nil {
			d.removed(coord, "input field", o.Directives)
			continue
		}
		d.described(coord, o.Description, n.Description)
		d.deprecation(coord, o.Directives, n.Directives)
		d.directiveUses(coord, o.Directives, n.Directives)
		d.inputType(coord, o.Type, n.Type)
		d.defaultValue(coord, o.DefaultValue, n.DefaultValue, n.Type)
	}
	for _, n := range news {
		if olds.ForName(n.Name) != nil {
			continue
		}
		coord := typeName + "." + n.Name
		if required(n.Type, n.DefaultValue) {
			d.report(Breaking, coord, "required input field added; inputs without it fail")
		} else {
			d.report(Info, coord, "optional input field added")
		}
	}
}

// required reports whether a client must give an argument or input field:
// non-null without a default.
func required(t *ast.Type, def *ast.Value) bool {
	return t.NonNull && def == nil
}

func (d *differ) unionMembers(union string, olds, news []string) {
	for _, m := range olds {
		if !slices.Contains(news, m) {
			d.report(Breaking, union, "member %s removed", m)
		}
	}
	for _, m := range news {
		if !slices.Contains(olds, m) {
			d.report(Dangerous, union, "member %s added; clients that switch over every member may not handle it", m)
		}
	}
}

func (d *differ) enumValues(enum string, olds, news ast.EnumValueList) {
	for _, o := range olds {
		coord := enum + "." + o.Name
		n := news.ForName(o.Name)
		if n == nil {
			d.removed(coord, "enum value", o.Directives)
			continue
		}
		d.described(coord, o.Description, n.Description)
		d.deprecation(coord, o.Directives, n.Directives)
		d.directiveUses(coord, o.Directives, n.Directives)
	}
	for _, n := range news {
		if olds.ForName(n.Name) == nil {
			d.report(Dangerous, enum+"."+n.Name, "enum value added; clients that switch over every value may not handle it")
		}
	}
}

// removed reports the removal of a field, argument, input field or enum
// value. Deprecation announces a removal but does not make it safe:
// clients may still use the element, so it stays breaking unless the
// options say the retirement is due.
func (d *differ) removed(coord, what string, dirs ast.DirectiveList) {
	switch {
	case !deprecated(dirs):
		d.report(Breaking, coord, "%s removed", what)
	case d.opts.AllowRemovingDeprecated:
		d.report(Dangerous, coord, "deprecated %s removed", what)
	default:
		d.report(Breaking, coord, "%s removed; it was deprecated, but clients may still use it (-allow-removing-deprecated accepts this)", what)
	}
}

func (d *differ) described(coord, old, new string) {
	old, new = strings.TrimSpace(old), strings.TrimSpace(new)
	switch {
	case old == new:
	case old == "":
		d.report(Info, coord, "description added")
	case new == "":
		d.report(Info, coord, "description removed")
	default:
		d.report(Info, coord, "description changed")
	}
}
