// Package doccache holds GraphQL documents in memory bounded in bytes: the
// LRU under every document cache of the GraphQL door, and the cache of
// parsed and validated documents gqlgen and the expansion guard share
// (Parsed). A bound on the number of entries bounds nothing that matters
// when one entry can be a kilobyte or a megabyte; these caches count what
// each entry holds in memory and evict the least recently used until the
// total fits.
package doccache

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Limits bound an LRU. MaxBytes must be positive; the zero value of each
// other field is no bound of that kind.
type Limits struct {
	// MaxBytes bounds the sum of the entries' sizes.
	MaxBytes int64
	// MaxEntryBytes is the largest entry kept: a larger one is not cached
	// (its request still runs; only the next identical one pays again).
	// Zero: MaxBytes.
	MaxEntryBytes int64
	// MaxEntries bounds the number of entries as well; zero: no bound.
	MaxEntries int
}

// LRU is a least-recently-used cache bounded by the sum of its entries'
// sizes, as a size function measures them. It is safe for concurrent use.
//
// golang-lru's simplelru keeps the order and the entries; this type only
// adds the byte accounting (simplelru bounds by count), so a count bound
// comes for free from simplelru itself.
type LRU[V any] struct {
	mu       sync.Mutex
	entries  *simplelru.LRU[string, sized[V]]
	bytes    int64
	maxBytes int64
	maxEntry int64
	size     func(key string, v V) int64
}

type sized[V any] struct {
	v    V
	size int64
}

// NewLRU returns an empty LRU within l that measures an entry with size,
// which must count the key too when the entry keeps it (it does: keys are
// held as long as their entries). It panics if l.MaxBytes is not
// positive, a programming error the configuration rules out.
func NewLRU[V any](l Limits, size func(key string, v V) int64) *LRU[V] {
	if l.MaxBytes <= 0 || l.MaxEntryBytes < 0 || l.MaxEntries < 0 {
		panic("doccache: MaxBytes must be positive and the other limits not negative")
	}
	c := &LRU[V]{maxBytes: l.MaxBytes, maxEntry: l.MaxEntryBytes, size: size}
	if c.maxEntry == 0 || c.maxEntry > c.maxBytes {
		c.maxEntry = c.maxBytes
	}
	count := l.MaxEntries
	if count == 0 {
		count = math.MaxInt
	}
	// The callback runs under c.mu: simplelru calls it from Add, Remove and
	// RemoveOldest, which only this type calls, each holding the lock.
	entries, err := simplelru.NewLRU(count, func(_ string, e sized[V]) { c.bytes -= e.size })
	if err != nil {
		panic("doccache: " + err.Error()) // only for a size below one, excluded above
	}
	c.entries = entries
	return c
}

// Get returns key's value and marks it most recently used.
func (c *LRU[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries.Get(key)
	return e.v, ok
}

// Add keeps v under key, replacing what key held, and evicts the least
// recently used entries until the total fits MaxBytes. An entry larger
// than MaxEntryBytes is not kept (and one key held before is dropped, so a
// key never answers with an older value than the last one added); Add
// reports whether v was kept.
func (c *LRU[V]) Add(key string, v V) bool {
	n := c.size(key, v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.maxEntry {
		c.entries.Remove(key)
		return false
	}
	if old, ok := c.entries.Peek(key); ok {
		c.bytes -= old.size
	}
	c.entries.Add(key, sized[V]{v: v, size: n})
	c.bytes += n
	for c.bytes > c.maxBytes {
		if _, _, ok := c.entries.RemoveOldest(); !ok {
			break
		}
	}
	return true
}

// Bytes is the sum of the sizes of the entries held.
func (c *LRU[V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Len is the number of entries held.
func (c *LRU[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.Len()
}
