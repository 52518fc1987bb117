package schemadiff

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Violation is one place where the schema breaks the project's conventions.
type Violation struct {
	// Coordinate names the element, in the form Change.Coordinate uses.
	Coordinate string
	// Message says which convention, e.g. "no description".
	Message string
}

// String returns the violation as "Coordinate: message".
func (v Violation) String() string { return v.Coordinate + ": " + v.Message }

// The naming conventions, as GraphQL's own specification and the
// ecosystem's tools (graphql-eslint's naming-convention presets) use them.
var (
	pascalCase     = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	camelCase      = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	upperSnakeCase = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
)

// Lint returns every violation of the conventions in what the schema
// declares, ordered by coordinate: each type, field, argument, enum
// value, input field and directive has a description, types are
// PascalCase, fields, arguments and directives camelCase, enum values
// UPPER_SNAKE_CASE. The prelude's built-in scalars and directives and the
// introspection types and fields are exempt.
func Lint(s *ast.Schema) []Violation {
	l := &linter{}
	for _, name := range sortedNames(s.Types) {
		def := s.Types[name]
		if !declared(def) {
			continue
		}
		l.check(name, name, def.Description, pascalCase, "PascalCase")
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			coord := name + "." + f.Name
			l.check(coord, f.Name, f.Description, camelCase, "camelCase")
			l.arguments(coord, f.Arguments)
		}
		for _, v := range def.EnumValues {
			l.check(name+"."+v.Name, v.Name, v.Description, upperSnakeCase, "UPPER_SNAKE_CASE")
		}
	}
	for _, name := range sortedNames(s.Directives) {
		dir := s.Directives[name]
		if builtinDirective(dir) {
			continue
		}
		coord := "@" + name
		l.check(coord, name, dir.Description, camelCase, "camelCase")
		l.arguments(coord, dir.Arguments)
	}
	slices.SortStableFunc(l.violations, func(a, b Violation) int {
		return cmp.Compare(a.Coordinate, b.Coordinate)
	})
	return l.violations
}

type linter struct {
	violations []Violation
}

func (l *linter) arguments(owner string, args ast.ArgumentDefinitionList) {
	for _, a := range args {
		l.check(owner+"("+a.Name+":)", a.Name, a.Description, camelCase, "camelCase")
	}
}

func (l *linter) check(coord, name, description string, naming *regexp.Regexp, convention string) {
	if strings.TrimSpace(description) == "" {
		l.violations = append(l.violations, Violation{Coordinate: coord, Message: "no description"})
	}
	if !naming.MatchString(name) {
		l.violations = append(l.violations, Violation{Coordinate: coord, Message: "name is not " + convention})
	}
}
