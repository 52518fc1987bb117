package trusted

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// QueryCache is gqlgen's query cache (Server.SetQueryCache) with the
// trusted documents in front: a listed text is answered with the document
// parsed and validated at load, everything else by Inner. gqlgen's executor
// (executor.parseQuery, from CreateOperationContext) takes a document found
// in its query cache as parsed and validated and goes straight on to
// choosing the operation and coercing variables, so a listed operation,
// sent by id or as text, is neither parsed nor validated per request. Give
// the same cache to limits.Expansion, which then skips its own parse of
// listed documents too.
type QueryCache struct {
	store *Store
	inner graphql.Cache[*ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = (*QueryCache)(nil)

// NewQueryCache returns the cache of store's documents in front of inner
// (the server's LRU). A nil store leaves everything to inner.
func NewQueryCache(store *Store, inner graphql.Cache[*ast.QueryDocument]) *QueryCache {
	if inner == nil {
		inner = graphql.NoCache[*ast.QueryDocument]{}
	}
	return &QueryCache{store: store, inner: inner}
}

// Get implements graphql.Cache.
func (c *QueryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	if d := c.store.byText(query); d != nil {
		return d.Query, true
	}
	return c.inner.Get(ctx, query)
}

// Add implements graphql.Cache: what gqlgen parsed and validated goes to
// the inner cache (a listed text gets here only if the list changed between
// gqlgen's Get and its Add).
func (c *QueryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	c.inner.Add(ctx, query, doc)
}
