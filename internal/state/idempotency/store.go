// Package idempotency remembers the outcome of writes by a client-chosen key,
// so that a client retrying a write never performs it twice, also when its
// retry reaches another replica of the gateway.
package idempotency

import (
	"context"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Store remembers outcomes by key and lets one writer at a time claim a key
// that has none. Memory is the in-process one; Redis shares keys across a
// fleet. Both pass the same test suite (store_test.go).
type Store[V any] interface {
	// Get returns the outcome remembered for key, if any and not expired.
	// A key claimed but without an outcome yet is not found.
	Get(ctx context.Context, key string) (V, bool, error)
	// Claim takes key for the writer that token names until lease passes,
	// unless key holds an outcome or another writer's live claim: exactly
	// one of any number of concurrent claimers wins. A claim whose writer
	// died expires with its lease, and the key can be claimed again.
	Claim(ctx context.Context, key, token string, lease time.Duration) (bool, error)
	// Put remembers v for key until ttl passes, ending any claim.
	Put(ctx context.Context, key string, v V, ttl time.Duration) error
	// Release ends token's claim on key without an outcome (its write
	// failed, so the client may retry it); another writer's claim stays.
	Release(ctx context.Context, key, token string) error
}

// Memory is a Store for one process, bounded in size: past its capacity
// the least recently used outcomes are forgotten first.
type Memory[V any] struct {
	now   func() time.Time
	cache *lru.Cache[string, entry[V]]

	mu     sync.Mutex
	claims map[string]claim
}

type entry[V any] struct {
	v       V
	expires time.Time
}

type claim struct {
	token   string
	expires time.Time
}

// NewMemory returns a Memory holding at most capacity outcomes; now is the
// clock (time.Now if nil).
func NewMemory[V any](capacity int, now func() time.Time) (*Memory[V], error) {
	c, err := lru.New[string, entry[V]](capacity)
	if err != nil {
		return nil, fmt.Errorf("idempotency store of %d keys: %w", capacity, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Memory[V]{now: now, cache: c, claims: map[string]claim{}}, nil
}

// Get implements Store.
func (m *Memory[V]) Get(_ context.Context, key string) (V, bool, error) {
	e, ok := m.cache.Get(key)
	if !ok || !m.now().Before(e.expires) {
		if ok {
			m.cache.Remove(key)
		}
		var zero V
		return zero, false, nil
	}
	return e.v, true, nil
}

// Claim implements Store.
func (m *Memory[V]) Claim(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	if _, ok, _ := m.Get(ctx, key); ok {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if c, ok := m.claims[key]; ok && now.Before(c.expires) {
		return false, nil
	}
	m.claims[key] = claim{token: token, expires: now.Add(lease)}
	return true, nil
}

// Put implements Store.
func (m *Memory[V]) Put(_ context.Context, key string, v V, ttl time.Duration) error {
	m.cache.Add(key, entry[V]{v: v, expires: m.now().Add(ttl)})
	m.mu.Lock()
	delete(m.claims, key)
	m.mu.Unlock()
	return nil
}

// Release implements Store.
func (m *Memory[V]) Release(_ context.Context, key, token string) error {
	m.mu.Lock()
	if c, ok := m.claims[key]; ok && c.token == token {
		delete(m.claims, key)
	}
	m.mu.Unlock()
	return nil
}

// Len is the number of outcomes held, expired ones included until looked up.
func (m *Memory[V]) Len() int { return m.cache.Len() }
