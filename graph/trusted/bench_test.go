package trusted_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/trusted"
)

// benchOperation is what a client's generated code sends: an operation
// and its colocated fragments.
const benchOperation = `query UserWithEvents($id: ID!) {
  user(id: $id) {
    ...UserFields
    events {
      ...EventFields
      user { id userName }
    }
  }
}

fragment UserFields on User {
  id
  userName
  email
}

fragment EventFields on Event {
  id
  name
  userId
  details
}`

var benchVariables = map[string]any{"id": "1"}

// BenchmarkOperationContext measures what trusted documents change in a
// request: gqlgen's CreateOperationContext (the parameter mutators,
// parsing, validation, variables), for the operation sent by id and as
// free text that is not in the query cache (parsed and validated every
// time), with the query cache's hit for comparison.
func BenchmarkOperationContext(b *testing.B) {
	es := graph.NewExecutableSchema(graph.NewConfig(nil))
	store := openFiles(b, writeFile(b, b.TempDir(), "m.json", keyValue([2]string{sha(benchOperation), benchOperation})))
	byID := map[string]any{"documentId": "sha256:" + sha(benchOperation)}
	cases := []struct {
		name  string
		exec  func() *executor.Executor
		query string
		ext   map[string]any
	}{
		{"by_id", func() *executor.Executor {
			e := executor.New(es)
			e.Use(trusted.Extension{Store: store, Mode: trusted.Enforce})
			e.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
			e.SetQueryCache(trusted.NewQueryCache(store, lru.New[*ast.QueryDocument](100)))
			return e
		}, "", byID},
		{"free_text_uncached", func() *executor.Executor {
			e := executor.New(es)
			e.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
			e.SetQueryCache(graphql.NoCache[*ast.QueryDocument]{})
			return e
		}, benchOperation, nil},
		{"free_text_cached", func() *executor.Executor {
			e := executor.New(es)
			e.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
			e.SetQueryCache(lru.New[*ast.QueryDocument](100))
			return e
		}, benchOperation, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			exec := c.exec()
			ctx := graphql.StartOperationTrace(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				p := graphql.RawParams{Query: c.query, Variables: benchVariables, Extensions: c.ext}
				if _, errs := exec.CreateOperationContext(ctx, &p); errs != nil {
					b.Fatal(errs)
				}
			}
		})
	}
}

// BenchmarkRequest is the whole request through the HTTP stack, the
// transport, gqlgen and the resolvers to the in-process simulator (one
// user and two events fetched), by id and as free text parsed and
// validated every time (trusted documents off, no query cache).
func BenchmarkRequest(b *testing.B) {
	listed := keyValue([2]string{sha(benchOperation), benchOperation})
	for _, c := range []struct {
		name     string
		mode     trusted.Mode
		manifest string
		body     map[string]any
	}{
		{"by_id", trusted.Enforce, listed, map[string]any{"variables": benchVariables, "extensions": map[string]any{"documentId": "sha256:" + sha(benchOperation)}}},
		{"free_text_uncached", trusted.Off, keyValue([2]string{sha(mine), mine}), map[string]any{"variables": benchVariables, "query": benchOperation}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := newDoorListing(b, c.mode, false, c.manifest)
			d.inner.inner = graphql.NoCache[*ast.QueryDocument]{} // before any request
			body, _ := json.Marshal(c.body)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				d.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
