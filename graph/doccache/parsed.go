package doccache

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Parsed is the cache of parsed and validated documents, keyed by their
// text, for Server.SetQueryCache and the expansion guard
// (limits.Expansion.Cache). gqlgen adds a document only once it has parsed
// and validated it (executor.parseQuery), so nothing invalid is kept;
// ParsedSize measures each entry.
type Parsed struct {
	lru *LRU[*ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = (*Parsed)(nil)

// NewParsed returns an empty cache within l (see Limits; MaxEntryBytes
// is a document's ParsedSize).
func NewParsed(l Limits) *Parsed {
	return &Parsed{lru: NewLRU(l, ParsedSize)}
}

// Get implements graphql.Cache.
func (p *Parsed) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return p.lru.Get(query)
}

// Add implements graphql.Cache: a document larger than the limit for one
// entry is not kept.
func (p *Parsed) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	p.lru.Add(query, doc)
}

// Bytes is what the documents held take in memory, as ParsedSize measures.
func (p *Parsed) Bytes() int64 { return p.lru.Bytes() }

// Len is the number of documents held.
func (p *Parsed) Len() int { return p.lru.Len() }
