package doccache

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

func loadSchema(t testing.TB) *ast.Schema {
	t.Helper()
	text, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(text)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// documents are the shapes measured: the i-th of each is a distinct text.
var documents = map[string]func(i int) string{
	"small query": func(i int) string {
		return fmt.Sprintf(`query Q%d { users { id userName email events { id name details } } }`, i)
	},
	"many aliased fields": func(i int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "query Q%d {", i)
		for j := range 300 {
			fmt.Fprintf(&b, " a%d: event(id: \"e%d\") { id name }", j, j)
		}
		b.WriteString(" }")
		return b.String()
	},
	"fragments and variables": func(i int) string {
		return fmt.Sprintf(`query Q%d($id: ID!, $other: ID = "2") {
			a: user(id: $id) { ...U events { ...E } }
			b: user(id: $other) { ...U }
		}
		fragment U on User { id userName email }
		fragment E on Event { id name userId details }`, i)
	},
	"comments, directives, objects, inline fragments": func(i int) string {
		return fmt.Sprintf(`# a mutation
		mutation M%d($skip: Boolean! = false) {
			# the write
			addEvent(input: {name: "n", userId: "1", details: "a\nb"}, idempotencyKey: "k") {
				__typename
				... on AddEventSuccess { event { id @include(if: true) name @skip(if: $skip) } }
				... on ServiceUnavailable { retryAfter circuitState }
				... on InvalidInput { message field }
			}
		}`, i)
	},
	"a 100 KB string literal": func(i int) string {
		return fmt.Sprintf(`query Q%d { user(id: "%s") { id } }`, i, strings.Repeat("x", 100<<10))
	},
	"a 30 KB escaped literal": func(i int) string {
		return fmt.Sprintf(`query Q%d { user(id: "%s") { id } }`, i, strings.Repeat(`\u0041`, 5<<10))
	},
	"a block string": func(i int) string {
		return fmt.Sprintf(`query Q%d { user(id: """%s""") { id } }`, i, strings.Repeat("line\n", 2<<10))
	},
}

func parse(t testing.TB, schema *ast.Schema, text string) *ast.QueryDocument {
	doc, errs := gqlparser.LoadQuery(schema, text)
	if len(errs) > 0 {
		t.Fatalf("%.80q…: %v", text, errs)
	}
	return doc
}

// TestParsedSizeMatchesTheHeap parses many copies of each kind of document,
// keeps them with their texts as the cache would, and compares the heap's
// growth with the sum of ParsedSize (less the LRU's own part, which is not
// allocated here). The measure must be within 5% either way.
func TestParsedSizeMatchesTheHeap(t *testing.T) {
	schema := loadSchema(t)
	validator.Validate(schema, parse(t, schema, "{ users { id } }")) // any lazy set-up, before measuring
	for name, text := range documents {
		t.Run(name, func(t *testing.T) {
			const n = 200
			texts := make([]string, n)
			for i := range texts {
				texts[i] = text(i)
			}
			docs := make([]*ast.QueryDocument, n)
			before := heapAlloc()
			for i := range docs {
				docs[i] = parse(t, schema, texts[i])
			}
			grown := heapAlloc() - before
			var measured int64
			for i, d := range docs {
				// The texts were allocated before measuring; count the rest.
				measured += ParsedSize(texts[i], d) - int64(len(texts[i])) - entryOverhead
			}
			runtime.KeepAlive(texts)
			ratio := float64(measured) / float64(grown)
			t.Logf("%s: %d bytes of text, measured %d bytes of AST, heap grew %d (measure/heap %.2f)",
				name, len(texts[0]), measured/n, grown/n, ratio)
			if ratio < 0.95 || ratio > 1.05 {
				t.Errorf("measure/heap = %.2f, want within 5%%", ratio)
			}
		})
	}
}

func heapAlloc() int64 {
	runtime.GC()
	runtime.GC() // and what sync.Pools kept through the first
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func TestParsedSizeLeavesOutTheSchemaAndCountsTheText(t *testing.T) {
	schema := loadSchema(t)
	long := fmt.Sprintf(`{ user(id: "%s") { id } }`, strings.Repeat("x", 900<<10))
	small := `{ user(id: "1") { id } }`
	sizeLong, sizeSmall := ParsedSize(long, parse(t, schema, long)), ParsedSize(small, parse(t, schema, small))
	// The literal is a substring of the text: counted once, as the text.
	if extra := sizeLong - sizeSmall - int64(len(long)-len(small)); extra != 0 {
		t.Errorf("the long literal's document measures %d bytes more than the small one's beyond the text", extra)
	}
	// A validated document points into the schema; one only parsed does
	// not. Both measure the same.
	parsed, err := parser.ParseQuery(&ast.Source{Input: small})
	if err != nil {
		t.Fatal(err)
	}
	if p := ParsedSize(small, parsed); p != sizeSmall {
		t.Errorf("validated: %d bytes, only parsed: %d; the schema was counted", sizeSmall, p)
	}
	// A key that is not the document's text: the text counts too.
	if other := ParsedSize("key", parse(t, schema, small)); other != sizeSmall-int64(len(small))+3+int64(len(small)) {
		t.Errorf("under another key: %d bytes, want %d", other, sizeSmall+3)
	}
}

// BenchmarkParsedSize compares measuring a dense document (300 aliased
// fields with arguments) with parsing and validating it, which happens
// before every Add.
func BenchmarkParsedSize(b *testing.B) {
	schema := loadSchema(b)
	q := documents["many aliased fields"](1)
	b.Run("parse and validate", func(b *testing.B) {
		for b.Loop() {
			parse(b, schema, q)
		}
	})
	doc := parse(b, schema, q)
	b.Run("ParsedSize", func(b *testing.B) {
		for b.Loop() {
			ParsedSize(q, doc)
		}
	})
}
