// Package apq keeps the documents of automatic persisted queries (gqlgen's
// APQ extension): a replica's own LRU in front and, for a fleet, Redis
// behind, so that a hash registered on one replica is known on all.
package apq

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/redis/go-redis/v9"
)

// Cache is a graphql.Cache[string] for the APQ extension.
type Cache struct {
	local   *lru.LRU[string]
	rdb     redis.UniversalClient // nil: this replica only
	prefix  string
	ttl     time.Duration
	onError func(op string, err error)
}

var _ graphql.Cache[string] = (*Cache)(nil)

// New returns a Cache holding size documents locally. With rdb set,
// documents are also kept in Redis under prefix for ttl; a failing Redis
// leaves the local level working (a client whose hash is unknown just
// sends the document again, as the APQ protocol expects).
func New(size int, rdb redis.UniversalClient, prefix string, ttl time.Duration, onError func(op string, err error)) *Cache {
	if onError == nil {
		onError = func(string, error) {}
	}
	return &Cache{local: lru.New[string](size), rdb: rdb, prefix: prefix + "apq:", ttl: ttl, onError: onError}
}

// Get implements graphql.Cache.
func (c *Cache) Get(ctx context.Context, hash string) (string, bool) {
	if doc, ok := c.local.Get(ctx, hash); ok || c.rdb == nil {
		return doc, ok
	}
	doc, err := c.rdb.Get(ctx, c.prefix+hash).Result()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			c.onError("apq get", err)
		}
		return "", false
	}
	c.local.Add(ctx, hash, doc)
	return doc, true
}

// Add implements graphql.Cache. The APQ extension has checked that hash is
// the document's SHA-256 before adding it.
func (c *Cache) Add(ctx context.Context, hash, doc string) {
	c.local.Add(ctx, hash, doc)
	if c.rdb == nil {
		return
	}
	if err := c.rdb.Set(ctx, c.prefix+hash, doc, c.ttl).Err(); err != nil {
		c.onError("apq set", err)
	}
}
