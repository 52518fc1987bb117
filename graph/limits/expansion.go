package limits

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Defaults for Expansion's zero fields. The timings below come from
// BenchmarkAcceptedWorstCase, which drives the full gqlgen handler with the
// worst documents each bound lets through, on one 2-core VM: with the
// gateway's parser token limit of 5000 none costs parsing, this guard and
// validation more than about 6ms (a normal query: 0.2ms; the audit's bombs:
// under 1ms), and those near that figure are linear in their length.
const (
	// DefaultMaxFields bounds one operation or fragment definition.
	// GraphiQL's full introspection query (introspection.Query) expands to
	// 241 by Expansion's count; the queries clients send this schema, tens.
	// 2000 leaves either many times the room it needs, while the audit's
	// bomb (fan-out ten) reaches it at its third level.
	DefaultMaxFields = 2000
	// DefaultMaxDocumentFields bounds the sum over all of a document's
	// definitions. gqlparser validates every definition separately, each
	// with all the fragments it spreads, so a chain of small fragments each
	// spreading the next costs validation the square of its length while
	// every definition stays small: at this bound the chain is 96 fragments
	// long and takes about 4ms. A query and the fragments it uses count
	// about twice the query's own expansion (introspection: 493).
	DefaultMaxDocumentFields = 5000
	// DefaultMaxOverlaps bounds the pairs of fields sharing a response name
	// in one selection set, plus the pairs of fragments spread side by side:
	// gqlparser's OverlappingFieldsCanBeMerged compares every such pair, at
	// 0.2 to 0.6µs a pair. Clients that colocate fragments repeat id and
	// __typename in each: twelve such fragments spread together make 252.
	DefaultMaxOverlaps = 5000
	// DefaultMaxMismatchedOverlaps bounds the pairs among those that differ
	// in field, arguments or the type they are selected on, the only pairs
	// that can conflict. Each conflict costs about 6µs, mostly to report it
	// as an error of its own: without this bound, 1600 fields aliased
	// alternately "a: id a: userName", a 14KB query within the token limit,
	// took 3 to 11 seconds to answer 640000 errors.
	DefaultMaxMismatchedOverlaps = 250
)

// Expansion rejects a document, before gqlparser validates it, whose
// validation would cost more than a linear pass: the fragment bombs whose
// expansion is exponential in their size, and the documents that make
// validation quadratic. It counts each field, inline fragment and fragment
// spread, each argument value (every list item and input field) and each
// directive as one, a spread also counting everything its fragment expands
// to every time it is spread, and rejects a document when
//
//   - one of its operations or fragment definitions expands to more than
//     MaxFields (CodeFields);
//   - all its definitions together expand to more than MaxDocumentFields
//     (CodeFields);
//   - more than MaxOverlaps pairs of fields share a response name in one
//     selection set, fragments spread and merged as they execute, or more
//     than MaxMismatchedOverlaps of those pairs differ in field, arguments
//     or parent type (CodeOverlaps).
//
// Arguments and directives count because the validator walks them anew
// for every definition that reaches them: a fragment with a 2000-item list
// argument spread from 300 operations took 150ms to validate.
//
// The expansion is counted in time linear in the document, each fragment
// once, before anything walks the expanded tree; the overlaps are counted
// only for documents within the field bounds, so they cost at most
// MaxDocumentFields steps.
//
// It has to run before validation, as an OperationParameterMutator, because
// validation is the first thing to walk the document: gqlgen parses and
// validates between the parameter mutators and the context mutators, too
// early for a limit checked as an OperationContextMutator (as Shape is).
// Fragment definitions no operation uses count too, as the validator walks
// them all. Zero fields take the defaults above.
//
// Use a pointer, registered after extension.AutomaticPersistedQuery: that
// one replaces a hash-only request's empty query with the document it
// stored, and this guard must see the document that will be validated.
type Expansion struct {
	// MaxFields bounds each definition; zero means DefaultMaxFields.
	MaxFields int
	// MaxDocumentFields bounds the document; zero means
	// DefaultMaxDocumentFields.
	MaxDocumentFields int
	// MaxOverlaps bounds pairs sharing a response name, and of fragments
	// spread side by side; zero means DefaultMaxOverlaps.
	MaxOverlaps int
	// MaxMismatchedOverlaps bounds the pairs that may conflict; zero means
	// DefaultMaxMismatchedOverlaps.
	MaxMismatchedOverlaps int
	// TokenLimit is the parser token limit given to
	// Server.SetParserTokenLimit (zero: none), so that this guard parses no
	// more of a document than gqlgen will. Never set it below the server's:
	// a document this guard cannot parse is left to gqlgen unchecked.
	TokenLimit int
	// Cache is the query cache given to Server.SetQueryCache, or nil. A
	// query found there was parsed, checked and validated when it was added,
	// so it is not parsed again here.
	Cache graphql.Cache[*ast.QueryDocument]

	// schema tells which type each field is selected on, which decides
	// whether two fields of the same response name may conflict.
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = &Expansion{}

// ExtensionName implements graphql.HandlerExtension.
func (*Expansion) ExtensionName() string { return "QueryExpansionLimit" }

// Validate implements graphql.HandlerExtension; it keeps es's schema.
func (e *Expansion) Validate(es graphql.ExecutableSchema) error {
	if e.MaxFields < 0 || e.MaxDocumentFields < 0 || e.MaxOverlaps < 0 || e.MaxMismatchedOverlaps < 0 {
		return errors.New("limits.Expansion: a limit is negative")
	}
	e.schema = es.Schema()
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator.
// It never changes the parameters; it only refuses them.
func (e *Expansion) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if e.Cache != nil {
		if _, ok := e.Cache.Get(ctx, params.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, e.TokenLimit)
	if err != nil || doc == nil {
		// gqlgen parses the query again next and reports the error in its
		// own words, as it did before this guard existed.
		return nil
	}
	return e.Check(doc)
}

// Check returns the error MutateOperationParameters answers doc with, or
// nil. doc need not be validated: an unknown fragment and a spread that
// closes a fragment cycle count one, as the spread itself, and validation
// reports them afterwards. Call it after Validate, which gives it the
// schema.
func (e *Expansion) Check(doc *ast.QueryDocument) *gqlerror.Error {
	maxFields := or(e.MaxFields, DefaultMaxFields)
	maxDoc := or(e.MaxDocumentFields, DefaultMaxDocumentFields)
	c := expansionCounter{fragments: fragmentIndex(doc.Fragments), counts: map[string]int{}}
	total := 0
	for _, op := range doc.Operations {
		n := add(directivesSize(op.Directives), c.selectionSet(op.SelectionSet))
		if n > maxFields {
			return expansionError(operationName(op), n, maxFields, op.Position)
		}
		total = add(total, n)
	}
	for _, f := range doc.Fragments {
		var n int
		if c.fragments[f.Name] == f {
			n = c.fragment(f.Name)
		} else {
			n = add(directivesSize(f.Directives), c.selectionSet(f.SelectionSet)) // a duplicate name
		}
		if n > maxFields {
			return expansionError(fmt.Sprintf("fragment %q", f.Name), n, maxFields, f.Position)
		}
		total = add(total, n)
	}
	if total > maxDoc {
		return limitError(CodeFields, fmt.Sprintf(
			"the document's operations and fragments together expand to %s fields, fragment spreads and argument values, more than the limit of %d; send only the operation you run, with fewer nested fragments",
			countString(total), maxDoc))
	}
	o := newOverlapCounter(e.schema, c.fragments, c.cyclic, maxDoc,
		or(e.MaxOverlaps, DefaultMaxOverlaps), or(e.MaxMismatchedOverlaps, DefaultMaxMismatchedOverlaps))
	return o.document(doc)
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func operationName(op *ast.OperationDefinition) string {
	if op.Name == "" {
		return "the anonymous operation"
	}
	return fmt.Sprintf("operation %q", op.Name)
}

func expansionError(what string, n, limit int, pos *ast.Position) *gqlerror.Error {
	err := limitError(CodeFields, fmt.Sprintf(
		"%s expands to %s fields, fragment spreads and argument values, more than the limit of %d; spread fewer fragments or split the query",
		what, countString(n), limit))
	setPosition(err, pos)
	return err
}

func setPosition(err *gqlerror.Error, pos *ast.Position) {
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
}
