// Package limits holds the gqlgen extensions that decide what a document may
// ask: hostile query shapes are rejected before they cost the gateway more
// than a linear walk of the document, and introspection is refused with its
// own code while it is off (NoIntrospection).
//
// Named fragments make a document's expansion exponential in its size: a
// fragment that spreads the previous one ten times, eight levels deep, is a
// 734-byte query standing for 10^8 fields. Anything that walks the expanded
// tree (a depth counter, gqlgen's complexity.Calculate) hangs on it. Every
// walk here that can meet such a document visits each fragment definition
// once and reuses its result at every spread, so its cost follows the
// document, not what it expands to:
//
//   - Expansion runs before gqlparser validates the document. It bounds the
//     expansion, and the pairs of same-named fields and of fragments that
//     make validation quadratic, so that validation and everything after
//     it only ever see documents it can afford;
//   - Shape bounds depth and aliases;
//   - Complexity is gqlgen's complexity limit, computed the same way.
//
// The size of the document itself stays bounded by gqlgen's parser token
// limit (Server.SetParserTokenLimit): below the bounds here, what a
// document costs is linear in its length.
package limits

import (
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes a rejected operation carries in extensions.code.
const (
	CodeDepth   = "QUERY_TOO_DEEP"
	CodeAliases = "TOO_MANY_ALIASES"
	// CodeFields rejects a document whose operation or fragment expands to
	// more selections than Expansion allows.
	CodeFields = "QUERY_TOO_LARGE"
	// CodeOverlaps rejects a document that repeats response names in one
	// selection set more than Expansion allows.
	CodeOverlaps = "TOO_MANY_OVERLAPPING_FIELDS"
	// CodeComplexity is gqlgen's own code for its complexity limit, kept so
	// clients that branch on it see no difference.
	CodeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"
	// CodeIntrospectionDisabled refuses __schema and __type while
	// introspection is off.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
)

func init() {
	// A document refused by a limit is a request error, like a validation
	// failure: GraphQL over HTTP answers it 400 (or 200 with
	// application/json) and without "data", not as a field error.
	for _, code := range []string{CodeDepth, CodeAliases, CodeFields, CodeOverlaps, CodeComplexity} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}

func limitError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// add is a saturating addition of non-negative counts: an expansion can
// exceed any int, and a count that wrapped round to a small or negative
// number would slip under every limit.
func add(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// countString spells a saturated count as what it is, a lower bound.
func countString(n int) string {
	if n == math.MaxInt {
		return "more than " + strconv.Itoa(math.MaxInt-1)
	}
	return strconv.Itoa(n)
}

// fragmentIndex maps each fragment name to its first definition: that is
// the one ForName, gqlparser's validator and gqlgen's executor resolve a
// spread to, so a duplicate definition cannot hide what a spread costs.
func fragmentIndex(list ast.FragmentDefinitionList) map[string]*ast.FragmentDefinition {
	m := make(map[string]*ast.FragmentDefinition, len(list))
	for _, f := range list {
		if _, ok := m[f.Name]; !ok {
			m[f.Name] = f
		}
	}
	return m
}
