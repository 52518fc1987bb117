package config

import (
	"fmt"

	"github.com/eventms/gateway/internal/platform/envvar"
)

// DocumentCaches bound the GraphQL door's caches of documents: the parsed
// and validated documents (shared by gqlgen and the expansion guard) and
// the automatic persisted queries (a replica's own, and the fleet's in
// Redis). Each is bounded in bytes, a document counted as what it holds in
// memory (graph/doccache measures a parsed document's AST; a persisted one
// is its text) or, in Redis, as Redis measures it. A document over the
// limit for one entry still runs; it is only not cached. The counts, which
// were the only bound before, bound the entries as well.
//
//	GRAPHQL_QUERY_CACHE_BYTES         QueryBytes             32 MiB   parsed and validated documents
//	GRAPHQL_CACHE_MAX_DOCUMENT_BYTES  QueryMaxDocumentBytes  256 KiB  largest parsed document cached
//	GRAPHQL_QUERY_CACHE_SIZE          QueryEntries           1000     and at most this many
//	APQ_CACHE_BYTES                   APQBytes               16 MiB   a replica's persisted documents
//	APQ_MAX_DOCUMENT_BYTES            APQMaxDocumentBytes    64 KiB   longest text persisted, here and in Redis
//	APQ_CACHE_SIZE                    APQEntries             1000     and at most this many
//	APQ_REDIS_MAX_BYTES               APQRedisBytes          32 MiB   the fleet's persisted documents in Redis
//
// A parsed document takes 10 to 30 times its text for queries of many
// fields (GraphiQL's introspection query, 1.7 KB: 21 KB parsed; 300
// aliased fields with arguments, 3300 tokens: 300 KB) and little more than
// its text for a long string literal. 256 KiB holds the usual queries
// many times over and the densest kind up to about 2800 tokens; it keeps
// one document from taking more than a 128th of the cache. 64 KiB of text
// holds any operation within the 5000-token limit written as people and
// code generators write them; longer texts are padded with literals,
// whitespace or comments.
type DocumentCaches struct {
	QueryBytes            int64
	QueryMaxDocumentBytes int64
	QueryEntries          int
	APQBytes              int64
	APQMaxDocumentBytes   int
	APQEntries            int
	APQRedisBytes         int64
}

func loadDocumentCaches(r *envvar.Reader) DocumentCaches {
	c := DocumentCaches{
		QueryBytes:            int64(r.Integer("GRAPHQL_QUERY_CACHE_BYTES", 32<<20, 64<<10, 1<<40)),
		QueryMaxDocumentBytes: int64(r.Integer("GRAPHQL_CACHE_MAX_DOCUMENT_BYTES", 256<<10, 1<<10, 1<<40)),
		QueryEntries:          r.Integer("GRAPHQL_QUERY_CACHE_SIZE", 1000, 1, 10000000),
		APQBytes:              int64(r.Integer("APQ_CACHE_BYTES", 16<<20, 64<<10, 1<<40)),
		APQMaxDocumentBytes:   r.Integer("APQ_MAX_DOCUMENT_BYTES", 64<<10, 1<<10, 1<<30),
		APQEntries:            r.Integer("APQ_CACHE_SIZE", 1000, 1, 10000000),
		APQRedisBytes:         int64(r.Integer("APQ_REDIS_MAX_BYTES", 32<<20, 64<<10, 1<<40)),
	}
	if c.QueryMaxDocumentBytes > c.QueryBytes {
		r.Fail("GRAPHQL_CACHE_MAX_DOCUMENT_BYTES", fmt.Sprint(c.QueryMaxDocumentBytes),
			fmt.Sprintf("at most GRAPHQL_QUERY_CACHE_BYTES (%d)", c.QueryBytes))
	}
	if n := int64(c.APQMaxDocumentBytes); n > c.APQBytes || n > c.APQRedisBytes {
		r.Fail("APQ_MAX_DOCUMENT_BYTES", fmt.Sprint(n),
			fmt.Sprintf("at most APQ_CACHE_BYTES (%d) and APQ_REDIS_MAX_BYTES (%d)", c.APQBytes, c.APQRedisBytes))
	}
	return c
}
