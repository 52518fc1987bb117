package schemadiff

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// deprecationDefault is the reason @deprecated gives when none is written,
// as the GraphQL prelude declares it.
const deprecationDefault = "No longer supported"

func deprecated(dirs ast.DirectiveList) bool {
	return dirs.ForName("deprecated") != nil
}

func deprecationReason(dirs ast.DirectiveList) string {
	dir := dirs.ForName("deprecated")
	if dir == nil {
		return ""
	}
	if arg := dir.Arguments.ForName("reason"); arg != nil && arg.Value != nil {
		return arg.Value.Raw
	}
	return deprecationDefault
}

// deprecation reports deprecations added, lifted or reworded: the
// documented way to announce that an element will go.
func (d *differ) deprecation(coord string, old, new ast.DirectiveList) {
	o, n := deprecated(old), deprecated(new)
	switch {
	case !o && n:
		d.report(Info, coord, "deprecated: %s", deprecationReason(new))
	case o && !n:
		d.report(Info, coord, "no longer deprecated")
	case o && deprecationReason(old) != deprecationReason(new):
		d.report(Info, coord, "deprecation reason changed to: %s", deprecationReason(new))
	}
}

// oneOf compares @oneOf on an input object: a client that sets several of
// its fields, or none, is refused once it is there.
func (d *differ) oneOf(typeName string, old, new ast.DirectiveList) {
	o, n := old.ForName("oneOf") != nil, new.ForName("oneOf") != nil
	switch {
	case !o && n:
		d.report(Breaking, typeName, "became @oneOf; inputs that set several fields, or none, fail")
	case o && !n:
		d.report(Info, typeName, "no longer @oneOf")
	}
}

// directiveUses compares the directives applied to one element (other than
// @deprecated and @oneOf, which have rules of their own). They are reported
// as information: clients cannot see or write them (introspection does
// not show applied directives), but a reviewer should see that a
// @cacheControl hint changed.
func (d *differ) directiveUses(coord string, old, new ast.DirectiveList) {
	olds, news := appliedDirectives(old), appliedDirectives(new)
	for i := 0; i < len(olds); i++ {
		if j := slices.Index(news, olds[i]); j >= 0 {
			olds = slices.Delete(olds, i, i+1)
			news = slices.Delete(news, j, j+1)
			i--
		}
	}
	if len(olds) == 1 && len(news) == 1 && directiveName(olds[0]) == directiveName(news[0]) {
		d.report(Info, coord, "directive changed from %s to %s", olds[0], news[0])
		return
	}
	for _, o := range olds {
		d.report(Info, coord, "directive %s removed", o)
	}
	for _, n := range news {
		d.report(Info, coord, "directive %s applied", n)
	}
}

// appliedDirectives writes each directive applied to an element in one
// canonical form (arguments sorted), in source order.
func appliedDirectives(dirs ast.DirectiveList) []string {
	var out []string
	for _, dir := range dirs {
		if dir.Name == "deprecated" || dir.Name == "oneOf" {
			continue
		}
		args := make([]string, len(dir.Arguments))
		for i, a := range dir.Arguments {
			args[i] = a.Name + ": " + valueString(a.Value)
		}
		slices.Sort(args)
		s := "@" + dir.Name
		if len(args) > 0 {
			s += "(" + strings.Join(args, ", ") + ")"
		}
		out = append(out, s)
	}
	return out
}

func directiveName(applied string) string {
	name, _, _ := strings.Cut(applied, "(")
	return name
}

// executableLocations are where an operation, rather than the schema, may
// write a directive (the spec's ExecutableDirectiveLocation).
var executableLocations = []ast.DirectiveLocation{
	ast.LocationQuery, ast.LocationMutation, ast.LocationSubscription, ast.LocationField,
	ast.LocationFragmentDefinition, ast.LocationFragmentSpread, ast.LocationInlineFragment,
	ast.LocationVariableDefinition,
}

func executable(loc ast.DirectiveLocation) bool {
	return slices.Contains(executableLocations, loc)
}

// clientDirective reports whether clients may write the directive in their
// operations: it has an executable location.
func clientDirective(dir *ast.DirectiveDefinition) bool {
	return slices.ContainsFunc(dir.Locations, executable)
}

func builtinDirective(dir *ast.DirectiveDefinition) bool {
	return dir.Position != nil && dir.Position.Src != nil && dir.Position.Src.BuiltIn
}

// directiveDefinitions compares the directives the schema declares. Only
// a directive clients may write in operations (one with an executable
// location: FIELD, QUERY, FRAGMENT_SPREAD, ...) is part of their contract,
// so only its changes can break: removing it, an executable location or
// an argument, or adding a required argument. A type-system directive
// (like @cacheControl, on FIELD_DEFINITION and OBJECT) is written only by
// the schema itself, which must validate anyway, so its changes are
// information.
func (d *differ) directiveDefinitions() {
	for _, name := range sortedNames(d.old.Directives) {
		o := d.old.Directives[name]
		if builtinDirective(o) {
			continue
		}
		coord := "@" + name
		n := d.new.Directives[name]
		forClients := clientDirective(o)
		if n == nil {
			if forClients {
				d.report(Breaking, coord, "directive removed; operations that use it fail")
			} else {
				d.report(Info, coord, "type-system directive removed")
			}
			continue
		}
		sub := &differ{old: d.old, new: d.new, opts: d.opts}
		sub.described(coord, o.Description, n.Description)
		for _, loc := range o.Locations {
			if !slices.Contains(n.Locations, loc) {
				sev := Info
				if executable(loc) {
					sev = Breaking
				}
				sub.report(sev, coord, "location %s removed", loc)
			}
		}
		for _, loc := range n.Locations {
			if !slices.Contains(o.Locations, loc) {
				sub.report(Info, coord, "location %s added", loc)
			}
		}
		switch {
		case o.IsRepeatable && !n.IsRepeatable:
			sub.report(Breaking, coord, "no longer repeatable")
		case !o.IsRepeatable && n.IsRepeatable:
			sub.report(Info, coord, "now repeatable")
		}
		sub.arguments(coord, o.Arguments, n.Arguments)
		for _, c := range sub.changes {
			if !forClients && c.Severity > Info {
				c.Severity = Info
				c.Message += " (type-system directive: only the schema writes it)"
			}
			d.changes = append(d.changes, c)
		}
	}
	for _, name := range sortedNames(d.new.Directives) {
		if n := d.new.Directives[name]; !builtinDirective(n) && d.old.Directives[name] == nil {
			d.report(Info, "@"+name, "directive added")
		}
	}
}
