package limits_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/limits"
)

// The limits the gateway runs with by default (internal/config).
const (
	tokenLimit    = 5000
	maxDepth      = 10
	maxAliases    = 30
	maxComplexity = 5000
)

// newServer is the gateway's GraphQL handler as internal/app wires it, with
// this package's guards in place of gqlgen's complexity limit. Nothing is
// executed: an operation that passes every check is answered with empty
// data, so the tests and benchmarks see only what the checks decide and
// need no upstream service.
func newServer(tb testing.TB) *handler.Server {
	tb.Helper()
	return newServerTokens(tb, tokenLimit)
}

// newServerTokens is newServer with another parser token limit; zero lifts
// it, leaving only the guards of this package.
func newServerTokens(tb testing.TB, tokens int) *handler.Server {
	tb.Helper()
	srv := handler.New(graph.NewExecutableSchema(graph.NewConfig(nil)))
	srv.AddTransport(transport.POST{})
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(tokens)
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(&limits.Expansion{TokenLimit: tokens, Cache: cache})
	srv.Use(limits.Shape{MaxDepth: maxDepth, MaxAliases: maxAliases})
	srv.Use(&limits.Complexity{Limit: maxComplexity})
	srv.AroundOperations(func(context.Context, graphql.OperationHandler) graphql.ResponseHandler {
		return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{}`)})
	})
	return srv
}

// request is a GraphQL POST body.
type request struct {
	Query         string         `json:"query,omitempty"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// response is what the tests read of a GraphQL response.
type response struct {
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code is the first error's extensions.code, or "" for no error.
func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (r response) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

func do(tb testing.TB, h http.Handler, req request) response {
	tb.Helper()
	resp, err := send(h, req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// send is do for goroutines other than the test's, which must not stop it.
func send(h http.Handler, req request) (response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return response{}, err
	}
	hr := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	var resp response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		return response{}, fmt.Errorf("status %d, body %q: %w", rec.Code, rec.Body.String(), err)
	}
	return resp, nil
}

// apq is an automatic persisted query extension for query.
func apq(query string) map[string]any {
	sum := sha256.Sum256([]byte(query))
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
}

// bomb is the audit's document: fragment F0 selects users { id }, each
// further fragment spreads the previous one fanout times, and the query
// spreads the last, so it expands to fanout^levels copies of F0.
func bomb(levels, fanout int) string {
	return "query { ...F" + fmt.Sprint(levels) + " }\n" + bombFragments("F", levels, fanout)
}

// bombFragments are bomb's fragments, named prefix0 to prefix<levels>.
func bombFragments(prefix string, levels, fanout int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fragment %s0 on Query { users { id } }\n", prefix)
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "fragment %s%d on Query {", prefix, l)
		for range fanout {
			fmt.Fprintf(&b, " ...%s%d", prefix, l-1)
		}
		b.WriteString(" }\n")
	}
	return b.String()
}

// bombExpansion is what bomb(levels, fanout)'s operation expands to by
// Expansion's count: each copy of F0 is two fields, each fragment spread
// one, plus the query's own spread.
func bombExpansion(levels, fanout int) int {
	n, copies := 1, 1
	for range levels {
		copies *= fanout
		n += copies
		if n > 1<<40 {
			return n
		}
	}
	return n + 2*copies
}
