package entitycache

import (
	"context"
	"time"
)

// Layered is a Store with a level shared by a fleet behind the replica's
// own: when the own entry is not fresh, the shared one may be.
type Layered interface {
	GetShared(ctx context.Context, key string) (Entry, bool)
}

// Leaser is a Store that can lease the fill of a key across a fleet, so
// that identical reads on several replicas cost one upstream call.
type Leaser interface {
	Lease(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool)
}

// Notifier is a Store that hears the deletions other replicas make. A Cache
// over one listens from New until Close, so that fills it has in flight,
// which may predate such a deletion, are neither stored nor joined.
type Notifier interface {
	// Listen calls deleted with the keys of every deletion another
	// replica announces, after removing them from this replica's level,
	// until ctx ends.
	Listen(ctx context.Context, deleted func(keys []string))
}

// Forgetter is a Store that can delete entries from this replica's levels
// without telling the other replicas: how a fill takes back what it stored
// just after a write it raced with deleted the key (the write has told the
// fleet already).
type Forgetter interface {
	Forget(ctx context.Context, keys ...string)
}

// Interface guards.
var (
	_ Store     = (*Memory)(nil)
	_ Store     = (*Redis)(nil)
	_ Forgetter = (*Redis)(nil)
	_ Store     = (*Tiered)(nil)
	_ Layered   = (*Tiered)(nil)
	_ Leaser    = (*Tiered)(nil)
	_ Notifier  = (*Tiered)(nil)
	_ Forgetter = (*Tiered)(nil)
)

// Tiered is a Store with a replica's own memory in front of a level the
// fleet shares: reads try memory first, then the shared level (and keep
// what they find there); writes and deletions go to both.
type Tiered struct {
	Local  *Memory
	Shared *Redis
}

// Get implements Store.
func (t *Tiered) Get(ctx context.Context, key string) (Entry, bool) {
	if e, ok := t.Local.Get(ctx, key); ok {
		return e, true
	}
	e, ok := t.Shared.Get(ctx, key)
	if ok {
		t.Local.Set(ctx, key, e)
	}
	return e, ok
}

// GetShared reads the shared level only (keeping what it finds in the
// local one): how a replica whose own entry went stale sees another
// replica's newer fill.
func (t *Tiered) GetShared(ctx context.Context, key string) (Entry, bool) {
	e, ok := t.Shared.Get(ctx, key)
	if ok {
		t.Local.Set(ctx, key, e)
	}
	return e, ok
}

// Set implements Store.
func (t *Tiered) Set(ctx context.Context, key string, e Entry) {
	t.Local.Set(ctx, key, e)
	t.Shared.Set(ctx, key, e)
}

// Delete implements Store; the shared level tells the other replicas.
func (t *Tiered) Delete(ctx context.Context, keys ...string) {
	t.Local.Delete(ctx, keys...)
	t.Shared.Delete(ctx, keys...)
}

// Forget implements Forgetter.
func (t *Tiered) Forget(ctx context.Context, keys ...string) {
	t.Local.Delete(ctx, keys...)
	t.Shared.Forget(ctx, keys...)
}

// Listen implements Notifier.
func (t *Tiered) Listen(ctx context.Context, deleted func(keys []string)) {
	t.Shared.Subscribe(ctx, func(keys []string) {
		deleted(keys)
		t.Local.Delete(ctx, keys...)
		// A fill of this replica's that finished just before it heard may
		// have put the old answer back in the shared level.
		t.Shared.Forget(ctx, keys...)
	})
}

// Lease implements Leaser.
func (t *Tiered) Lease(ctx context.Context, key string, ttl time.Duration) (func(), bool) {
	return t.Shared.Lease(ctx, key, ttl)
}
