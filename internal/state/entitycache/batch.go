package entitycache

import (
	"context"
	"errors"
	"sync"

	"github.com/eventms/gateway/internal/upstream/detach"
	"github.com/eventms/gateway/internal/upstream/eventapi"
	"github.com/eventms/gateway/internal/upstream/flight"
)

// UsersByID answers each id as User does, in ids' order, each with its own
// error; see byID.
func (c *Cache) UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error) {
	return byID(c, ctx, "user", ids, keyUser, c.User, c.up.User, c.up.UsersByID)
}

// EventsByID is UsersByID for events.
func (c *Cache) EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error) {
	return byID(c, ctx, "event", ids, keyEvent, c.Event, c.up.Event, c.up.EventsByID)
}

// byID answers what it can from the store and asks many, the upstream's
// batch lookup, for the ids the store has never seen. The others (entries
// past their freshness, whose stale-if-error answer get decides, and every
// miss when the fleet shares fills by lease) go through one, the cache's
// own single lookup, each in its own goroutine. fetch is the upstream's
// single lookup, for background refreshes.
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
		case ok || leased:
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
		fillAll(c, ctx, kind, ids, missed, key, fetch, many, out, errs)
	}
	wg.Wait()
	return out, errs
}

// fillAll fetches ids[i] for each i in missed with one call to many and
// stores the answers, as fill does for one key: concurrent requests
// missing the same key join one fill, which stores its answer before it
// ends (so nobody arrives between the two and fetches again), and fills
// from before a write are neither stored nor joined, here or at the
// upstream client.
func fillAll[T any](c *Cache, ctx context.Context, kind string, ids []string, missed []int, key func(string) string,
	fetch func(context.Context, string) (*T, error), many func(context.Context, []string) ([]*T, []error), out []*T, errs []error,
) {
	epoch := c.epoch.Load()
	calls := make([]*flight.Call, len(missed))
	fks := make([]string, len(missed))
	var led []int // indexes into missed
	for j, i := range missed {
		k := key(ids[i])
		c.hook(c.cfg.Hooks.Miss, kind)
		traceLookup(ctx, "miss", k)
		fks[j] = flightKey(ctx, k, epoch)
		var lead bool
		if calls[j], lead = c.fills.Join(fks[j]); !lead {
			continue
		}
		// A fill that ended between the look at the store and this one
		// left its answer there.
		if e, ok := c.lookup(ctx, k); ok && c.fresh(e) {
			v, err := entryValue(e)
			c.fills.Land(fks[j], calls[j], v, err)
			continue
		}
		led = append(led, j)
	}
	if len(led) > 0 {
		leadIDs := make([]string, len(led))
		for n, j := range led {
			leadIDs[n] = ids[missed[j]]
		}
		vs, es := many(c.fillContext(ctx, epoch), leadIDs)
		now := c.cfg.Now()
		for n, j := range led {
			id, k := leadIDs[n], key(leadIDs[n])
			v, err := vs[n], es[n]
			switch {
			case err == nil:
				c.storeIf(ctx, epoch, k, Entry{Value: v, Fetched: now})
			case errors.Is(err, eventapi.ErrNotFound):
				c.storeIf(ctx, epoch, k, Entry{NotFound: true, Fetched: now})
			case ctx.Err() != nil:
				// This request left; whoever joined its fill still
				// wants the answer, from a fill of its own.
				if !c.fills.Abandon(fks[j], calls[j], err) {
					c.wg.Add(1)
					go c.refill(ctx, epoch, k, fks[j], calls[j], func(ctx context.Context) (any, error) { return fetch(ctx, id) })
				}
				continue
			}
			c.fills.Land(fks[j], calls[j], v, err)
		}
	}
	for j, i := range missed {
		select {
		case <-calls[j].Done():
			v, err := calls[j].Result()
			out[i], errs[i] = as[T](v), err
			if err == nil {
				ReportFrom(ctx).record(key(ids[i]), 0, c.cfg.Fresh, false)
			}
		case <-ctx.Done():
			errs[i] = ctx.Err()
		}
	}
}

// refill finishes the fill call (announced under fk) stands for, whose
// leader left, detached from it; Close ends it.
func (c *Cache) refill(ctx context.Context, epoch uint64, key, fk string, call *flight.Call, fetch func(context.Context) (any, error)) {
	defer c.wg.Done()
	fctx, cancel := detach.From(c.root, ctx)
	defer cancel()
	v, err := c.fillOne(fctx, epoch, key, fetch)
	c.fills.Land(fk, call, v, err)
}

// entryValue is what a stored entry answers.
func entryValue(e Entry) (any, error) {
	if e.NotFound {
		return nil, eventapi.ErrNotFound
	}
	return e.Value, nil
}

// as is v as a *T; nil for a not-found answer.
func as[T any](v any) *T {
	t, _ := v.(*T)
	return t
}
