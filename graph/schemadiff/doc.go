// Package schemadiff is the schema contract: it compares the GraphQL schema
// about to ship with the last released one (the baseline) and names every
// change a client in the field would notice, and it lints the schema for the
// conventions the project chose. cmd/schemacheck runs it in CI.
//
// # Why gqlparser's AST
//
// The comparison walks the two schemas as gqlparser (github.com/vektah/gqlparser/v2)
// loads and validates them, not their text. We chose it over
// @graphql-inspector/core, which classifies changes the same way, because
// the Go side of CI then needs no Node step, and because it is the parser the
// server itself is generated from (gqlgen loads schema.graphqls through it),
// so the checked schema is exactly the one the server serves. The rules
// follow graphql-inspector's classification (breaking, dangerous, safe),
// written out in diff.go, typechange.go and directives.go.
//
// Importing gqlparser under internal/ breaks the rule that nothing there
// depends on the GraphQL side; it is allowed here because this package
// belongs to a build tool, not to the server: no package of the server
// imports it.
//
// # What is reported
//
// A Change is Breaking when a client that works against the baseline can
// fail against the new schema (a removed field, a result that may now be
// null, a new required argument), Dangerous when it keeps working but may
// behave differently (a new enum value or union member that an exhaustive
// switch does not handle, a changed default), and Info otherwise (additions,
// descriptions, deprecations). Removing a field or enum value that the
// baseline deprecated is still breaking, since clients may still ask for
// it, unless Options.AllowRemovingDeprecated says the retirement is due.
//
// Lint reports a Violation for every type, field, argument, enum value,
// input field and directive that schema.graphqls declares without a
// description or with a name outside the conventions (types PascalCase,
// fields and arguments camelCase, enum values UPPER_SNAKE_CASE). What the
// GraphQL prelude declares (built-in scalars and directives, introspection)
// is exempt: schema.graphqls does not declare it.
package schemadiff
