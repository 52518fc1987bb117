package entitycache

import (
	"context"
	"errors"
	"sync"

	"github.com/eventms/gateway/internal/eventapi"
)

// batchUpstream is an Upstream that looks up many ids in one call
// (eventapi.Client): ids waiting for room under its concurrency limit then
// cost no goroutine each.
type batchUpstream interface {
	UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error)
	EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error)
}

// UsersByID answers each id as User does, in ids' order, each with its own
// error; see byID.
func (c *Cache) UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error) {
	var many func(context.Context, []string) ([]*eventapi.User, []error)
	if b, ok := c.up.(batchUpstream); ok {
		many = b.UsersByID
	}
	return byID(c, ctx, "user", ids, keyUser, c.User, c.up.User, many)
}

// EventsByID is UsersByID for events.
func (c *Cache) EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error) {
	var many func(context.Context, []string) ([]*eventapi.Event, []error)
	if b, ok := c.up.(batchUpstream); ok {
		many = b.EventsByID
	}
	return byID(c, ctx, "event", ids, keyEvent, c.Event, c.up.Event, many)
}

// byID answers what it can from the store and asks many, the upstream's
// batch lookup, for the ids the store has never seen. The others (entries
// past their freshness, whose stale-if-error answer get decides, and every
// miss when the fleet shares fills by lease) go through one, the cache's
// own single lookup, each in its own goroutine. fetch is the upstream's
// single lookup, for background refreshes; many may be nil.
func byID[T any](c *Cache, ctx context.Context, kind string, ids []string, key func(string) string,
	one, fetch func(context.Context, string) (*T, error), many func(context.Context, []string) ([]*T, []error),
) ([]*T, []error) {
	out, errs := make([]*T, len(ids)), make([]error, len(ids))
	_, leased := c.store.(Leaser)
	var slow, missed []int
	for i, id := range ids {
		k := key(id)
		e, ok := c.lookup(ctx, k)
		v, err, served := c.serve(ctx, kind, k, e, ok, func(ctx context.Context) (any, error) { return fetch(ctx, id) })
		switch {
		case served:
			out[i], errs[i] = as[T](v), err
		case ok || leased || many == nil:
			slow = append(slow, i)
		default:
			missed = append(missed, i)
		}
	}
	var wg sync.WaitGroup
	for _, i := range slow {
		wg.Go(func() { out[i], errs[i] = one(ctx, ids[i]) })
	}
	if len(missed) > 0 {
		missIDs := make([]string, len(missed))
		for j, i := range missed {
			missIDs[j] = ids[i]
			c.hook(c.cfg.Hooks.Miss, kind)
			traceLookup(ctx, "miss", key(ids[i]))
		}
		// A write while these were in flight makes them possibly older
		// than it: then they are answered but not stored, as fill does.
		epoch := c.epoch.Load()
		vs, es := many(ctx, missIDs)
		now := c.cfg.Now()
		for j, i := range missed {
			out[i], errs[i] = vs[j], es[j]
			switch {
			case es[j] == nil:
				c.storeIf(ctx, epoch, key(ids[i]), Entry{Value: vs[j], Fetched: now})
				ReportFrom(ctx).record(0, c.cfg.Fresh, false)
			case errors.Is(es[j], eventapi.ErrNotFound):
				c.storeIf(ctx, epoch, key(ids[i]), Entry{NotFound: true, Fetched: now})
			}
		}
	}
	wg.Wait()
	return out, errs
}

// as is v as a *T; nil for a not-found answer.
func as[T any](v any) *T {
	t, _ := v.(*T)
	return t
}
