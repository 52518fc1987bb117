package entitycache

import (
	"context"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Entry is what the cache holds for a key: the value the upstream gave (or
// that it did not know the id), and when it was fetched. Values are shared
// between requests and must not be modified.
type Entry struct {
	// Value is *eventapi.User, *eventapi.Event, []eventapi.User or
	// []eventapi.Event, by key; nil when NotFound.
	Value    any
	NotFound bool
	Fetched  time.Time
}

// Store holds entries by key. Memory is the in-process one; a shared store
// (Redis, for a fleet) can sit behind the same interface. A store may
// forget an entry at any time (that is a miss, not an error); a store that
// fails reads as a miss, so a failing store never fails a read.
type Store interface {
	Get(ctx context.Context, key string) (Entry, bool)
	Set(ctx context.Context, key string, e Entry)
	Delete(ctx context.Context, keys ...string)
}

// Memory is a Store bounded in entries: past its capacity the least
// recently used entries are evicted first.
type Memory struct {
	lru     *lru.Cache[string, Entry]
	onEvict func()
}

// NewMemory returns a Memory holding at most capacity entries. onEvict, if
// set, runs when an entry is pushed out to make room (metrics).
func NewMemory(capacity int, onEvict func()) (*Memory, error) {
	c, err := lru.New[string, Entry](capacity)
	if err != nil {
		return nil, fmt.Errorf("entity cache of %d entries: %w", capacity, err)
	}
	return &Memory{lru: c, onEvict: onEvict}, nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (Entry, bool) { return m.lru.Get(key) }

// Set implements Store.
func (m *Memory) Set(_ context.Context, key string, e Entry) {
	if m.lru.Add(key, e) && m.onEvict != nil {
		m.onEvict()
	}
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, keys ...string) {
	for _, k := range keys {
		m.lru.Remove(k)
	}
}

// Len is the number of entries held.
func (m *Memory) Len() int { return m.lru.Len() }
