package graph

import (
	"bytes"
	"net/http"

	"github.com/vektah/gqlparser/v2/formatter"
)

// SDL serves the schema as GraphQL SDL (GET /graphql/schema.graphql), for
// code generators (GraphQL Code Generator's `schema:` can point at it):
// the schema the executor runs, printed from the same parsed schema that
// introspection answers from, so the two never disagree. Mount it where
// introspection is on (development).
func SDL() http.Handler {
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(NewExecutableSchema(NewConfig(nil)).Schema())
	sdl := b.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/graphql; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(sdl)
	})
}
