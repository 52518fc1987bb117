// Package idempotency remembers the outcome of writes by a client-chosen key,
// so that a client retrying a write never performs it twice.
package idempotency

import (
	"context"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/eventms/gateway/internal/detach"
)

// Store remembers values by key for a time. Memory is the in-process one;
// a shared store (Redis, a database) can replace it for a fleet of gateways.
type Store[V any] interface {
	// Get returns the value remembered for key, if any and not expired.
	Get(ctx context.Context, key string) (V, bool, error)
	// Put remembers v for key until ttl passes.
	Put(ctx context.Context, key string, v V, ttl time.Duration) error
}

// Memory is a Store bounded in size: past its capacity the least recently
// used keys are forgotten first.
type Memory[V any] struct {
	now   func() time.Time
	cache *lru.Cache[string, entry[V]]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// NewMemory returns a Memory holding at most capacity keys; now is the
// clock (time.Now if nil).
func NewMemory[V any](capacity int, now func() time.Time) (*Memory[V], error) {
	c, err := lru.New[string, entry[V]](capacity)
	if err != nil {
		return nil, fmt.Errorf("idempotency store of %d keys: %w", capacity, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Memory[V]{now: now, cache: c}, nil
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

// Put implements Store.
func (m *Memory[V]) Put(_ context.Context, key string, v V, ttl time.Duration) error {
	m.cache.Add(key, entry[V]{v: v, expires: m.now().Add(ttl)})
	return nil
}

// Len is the number of keys held, expired ones included until looked up.
func (m *Memory[V]) Len() int { return m.cache.Len() }

// Guard runs a write at most once per key within the TTL: a repeated key gets
// the remembered value, and concurrent duplicates wait for the first.
type Guard[V any] struct {
	store   Store[V]
	ttl     time.Duration
	flights singleflight.Group
}

// NewGuard returns a Guard remembering successes in store for ttl.
func NewGuard[V any](store Store[V], ttl time.Duration) *Guard[V] {
	return &Guard[V]{store: store, ttl: ttl}
}

// Do returns the value remembered for key, or runs write and, if it
// succeeds, remembers its value. A failure is not remembered: the client may
// retry it. replayed reports whether the value came from an earlier call
// (or from a concurrent duplicate).
//
// write runs detached from ctx's cancellation: once started, a write runs
// to its end (bounded by the caller's deadline and the upstream timeout) so
// its outcome is remembered for the client's retry, even if this caller left.
func (g *Guard[V]) Do(ctx context.Context, key string, write func(context.Context) (V, error)) (v V, replayed bool, err error) {
	if v, ok, err := g.store.Get(ctx, key); err != nil {
		return v, false, fmt.Errorf("idempotency key %q: %w", key, err)
	} else if ok {
		return v, true, nil
	}
	led := false
	ch := g.flights.DoChan(key, func() (any, error) {
		led = true // only this caller's closure runs; the channel send orders it before our read
		wctx, cancel := detach.From(context.Background(), ctx)
		defer cancel()
		// Another flight may have finished between our Get and DoChan.
		if v, ok, err := g.store.Get(wctx, key); err == nil && ok {
			return result[V]{v: v, replayed: true}, nil
		}
		v, err := write(wctx)
		if err != nil {
			return nil, err
		}
		if err := g.store.Put(wctx, key, v, g.ttl); err != nil {
			return nil, fmt.Errorf("idempotency key %q: remember: %w", key, err)
		}
		return result[V]{v: v}, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return v, false, r.Err
		}
		res := r.Val.(result[V])
		return res.v, res.replayed || !led, nil
	case <-ctx.Done():
		return v, false, ctx.Err()
	}
}

type result[V any] struct {
	v        V
	replayed bool
}
