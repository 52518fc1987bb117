package limits_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/limits"
)

// worstCase builds, for a size n, a document built to make validation
// expensive; the larger n, the more expensive.
type worstCase struct {
	name string
	gen  func(n int) string
}

// worstCases are the most expensive documents for gqlparser's validator
// that the guard's bounds leave room for: each is grown by largestAccepted
// to just under whichever bound stops it.
var worstCases = []worstCase{
	// One field repeated: OverlappingFieldsCanBeMerged compares every pair.
	{"same field", func(n int) string { return "{ users { " + repeat("id", n) + "} }" }},
	{"same alias", func(n int) string { return "{ users { " + repeat("a: id", n) + "} }" }},
	// Every pair a conflict, each reported as an error.
	{"conflicting aliases", func(n int) string { return "{ users { " + repeat("a: id a: userName", n) + "} }" }},
	// Pairs of fields compare their sub-selections too.
	{"same nested field", func(n int) string { return "{ " + repeat("users { events { user { id } } }", n) + "}" }},
	// No pairs at all, just width, and depth.
	{"distinct aliases", func(n int) string { return "{ users { " + numbered("a%d: id", n) + "} }" }},
	{"deep nesting", func(n int) string {
		return "{ users " + strings.Repeat("{ events { user ", n) + "{ id }" + strings.Repeat(" } }", n) + " }"
	}},
	// Fragments: validated once per definition that reaches them, and
	// compared pairwise when spread together.
	{"fragment chain", func(n int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "query { ...C%d }\nfragment C0 on Query { users { id } }\n", n)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "fragment C%d on Query { ...C%d }\n", i, i-1)
		}
		return b.String()
	}},
	{"distinct fragments spread together", func(n int) string {
		var b strings.Builder
		b.WriteString("{ users { " + numbered("...F%d", n) + "} }\n")
		for i := range n {
			fmt.Fprintf(&b, "fragment F%d on User { a%d: id }\n", i, i)
		}
		return b.String()
	}},
	{"one fragment spread repeatedly", func(n int) string {
		return "{ users { " + repeat("...F", n) + "} }\nfragment F on User { id userName email }"
	}},
	{"wide fragment spread in many places", func(n int) string {
		return "{ " + numbered("u%d: users { ...F }", n) + "}\nfragment F on User { " + numbered("a%d: id", 40) + "}"
	}},
	{"many operations", func(n int) string { return numbered("query Q%d { users { id } }\n", n) }},
	{"many operations sharing a fragment", func(n int) string {
		return numbered("query Q%d { ...G }\n", n) + "fragment G on Query { users { " + numbered("a%d: id", 100) + "} }"
	}},
	// Argument values and directives are walked again for every
	// definition that reaches them, and each error quotes its value.
	{"long list argument", func(n int) string { return "{ event(id: [" + repeat("1", n) + "]) { id } }" }},
	{"many operations sharing a long argument", func(n int) string {
		return numbered("query Q%d { ...G }\n", n) + "fragment G on Query { event(id: [" + repeat("1", 200) + "]) { id } }"
	}},
	{"repeated directive", func(n int) string { return "{ users { id " + repeat("@include(if: true)", n) + "} }" }},
	{"unused fragments", func(n int) string {
		return "{ users { id } }\n" + numbered("fragment U%d on User { id userName email }\n", n)
	}},
}

func repeat(s string, n int) string { return strings.Repeat(s+" ", n) }

// numbered is format (with one %d) repeated for 0 to n-1.
func numbered(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+" ", i)
	}
	return b.String()
}

// largestAccepted is gen's document at the largest size the default
// Expansion guard and the parser token limit tokens (zero: none) accept.
func largestAccepted(tb testing.TB, gen func(int) string, tokens int) (string, int) {
	tb.Helper()
	e := &limits.Expansion{}
	if err := e.Validate(graph.NewExecutableSchema(graph.NewConfig(nil))); err != nil {
		tb.Fatal(err)
	}
	accepted := func(n int) bool {
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: gen(n)}, tokens)
		return err == nil && e.Check(doc) == nil
	}
	if !accepted(1) {
		tb.Fatalf("%q rejected at size 1", gen(1))
	}
	lo, hi := 1, 2
	for accepted(hi) {
		lo, hi = hi, hi*2
		if hi > 1<<20 {
			tb.Fatal("no bound stops this document")
		}
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; accepted(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return gen(lo), lo
}

// TestWorstCasesAccepted checks the documents the benchmark measures are
// the ones the guard lets through to validation, and that each is then
// answered: by a validation error or a later limit, or with data.
func TestWorstCasesAccepted(t *testing.T) {
	srv := newServer(t)
	for _, wc := range worstCases {
		t.Run(wc.name, func(t *testing.T) {
			q, n := largestAccepted(t, wc.gen, tokenLimit)
			resp := do(t, srv, request{Query: q + cacheBuster(12345), OperationName: firstOperation(q)})
			switch resp.code() {
			case limits.CodeFields, limits.CodeOverlaps, parseFailed:
				t.Fatalf("size %d: %v; the benchmark would measure no validation", n, resp)
			}
			t.Logf("size %d, %d bytes: %s", n, len(q), resp.code())
		})
	}
}

// firstOperation names the first operation of a document with many, so a
// request for it is not refused for naming none.
func firstOperation(q string) string {
	if strings.HasPrefix(q, "query Q0 ") {
		return "Q0"
	}
	return ""
}

// BenchmarkAcceptedWorstCase answers, through the whole handler, each worst
// case at the largest size the guard accepts: under the gateway's token
// limit, and with no token limit, where only this package's bounds hold.
// A comment numbering each request defeats the query cache, so every
// iteration parses, checks and validates anew.
func BenchmarkAcceptedWorstCase(b *testing.B) {
	for _, tokens := range []int{tokenLimit, 0} {
		srv := newServerTokens(b, tokens)
		b.Run(fmt.Sprintf("tokens=%d/reference: normal query", tokens), func(b *testing.B) {
			benchmarkQuery(b, srv, normalQuery)
		})
		b.Run(fmt.Sprintf("tokens=%d/reference: introspection", tokens), func(b *testing.B) {
			benchmarkQuery(b, srv, introspection.Query)
		})
		for _, wc := range worstCases {
			q, n := largestAccepted(b, wc.gen, tokens)
			b.Run(fmt.Sprintf("tokens=%d/%s/size=%d", tokens, wc.name, n), func(b *testing.B) {
				benchmarkQuery(b, srv, q)
			})
		}
	}
}
