// Package entitycache keeps the Event API's entities (users and events by
// id, and the two lists) between the per-request loaders and the upstream
// client, so that repeated reads are answered from memory and reads keep
// working while the upstream is down.
//
// Every entry has three ages. Within Fresh it is served without asking the
// upstream. Up to Fresh+StaleWhileRevalidate it is served at once, marked
// stale, while one background refresh per key fetches it again. Up to
// StaleIfError it is served, marked stale, only when fetching it again
// failed. Past that it is gone. An id the upstream does not know is
// remembered for NegativeTTL. A write through the cache (AddEvent) removes
// what it changes before it returns, and every read that starts after it
// returns makes fetches of its own: it never joins, nor is answered from
// what stores, a fetch that started before the write. So a client reads
// its own writes; writes by other clients of the upstream show within
// Fresh.
package entitycache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/internal/upstream/detach"
	"github.com/eventms/gateway/internal/upstream/eventapi"
	"github.com/eventms/gateway/internal/upstream/flight"
)

// Upstream is what the cache fronts; eventapi.Client is one.
type Upstream interface {
	Users(ctx context.Context) ([]eventapi.User, error)
	User(ctx context.Context, id string) (*eventapi.User, error)
	Events(ctx context.Context) ([]eventapi.Event, error)
	Event(ctx context.Context, id string) (*eventapi.Event, error)
	AddEvent(ctx context.Context, e eventapi.Event) error
	// UsersByID and EventsByID look up many ids in one call, each result
	// with its own error (eventapi.Client: ids waiting for room under its
	// concurrency limit cost no goroutine each).
	UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error)
	EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error)
}

// Hooks observe the cache (metrics). Nil funcs are skipped. kind is
// "user", "event", "users" or "events".
type Hooks struct {
	Hit     func(kind string)
	Miss    func(kind string)
	Stale   func(kind string)
	Refresh func(kind string)
}

// Config configures a Cache. Zero durations take the defaults in brackets.
//
//	Fresh                 [5s]   served without asking the upstream
//	StaleWhileRevalidate  [1m]   after Fresh: served at once, refreshed in the background
//	StaleIfError          [6h]   after Fresh: served when fetching again fails
//	NegativeTTL           [2s]   an unknown id is remembered this long
//	RefreshTimeout        [10s]  bound of one background refresh
//	FillLease             [3s]   with a Leaser store: how long another replica's fill is waited for
//	Now                   [time.Now]
type Config struct {
	Fresh                time.Duration
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	NegativeTTL          time.Duration
	RefreshTimeout       time.Duration
	FillLease            time.Duration
	Now                  func() time.Time
	Hooks                Hooks
	// Deleted, if set, hears the keys every write deletes, this replica's
	// (before the write returns) and other replicas' (as they are heard):
	// what is built from those entries (whole answers) must go too.
	Deleted func(keys []string)
}

// Cache is an Upstream that remembers what the upstream it fronts answered.
// It is safe for concurrent use; make one per process.
type Cache struct {
	up    Upstream
	store Store
	cfg   Config

	fills      flight.Group  // one fill per key at a time, single and batched alike
	epoch      atomic.Uint64 // bumped by every write, so older fills neither store nor are joined
	name       string        // tells this cache's fills apart from another's at the upstream
	refreshing sync.Map      // key → struct{}: one background refresh per key
	root       context.Context
	stop       context.CancelFunc
	wg         sync.WaitGroup // background refreshes and fills
	listener   sync.WaitGroup // hearing other replicas' deletions
}

// New returns a Cache over up, holding entries in store.
func New(up Upstream, store Store, cfg Config) *Cache {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Fresh, 5*time.Second)
	def(&cfg.StaleWhileRevalidate, time.Minute)
	def(&cfg.StaleIfError, 6*time.Hour)
	def(&cfg.NegativeTTL, 2*time.Second)
	def(&cfg.RefreshTimeout, 10*time.Second)
	def(&cfg.FillLease, 3*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	root, stop := context.WithCancel(context.Background())
	c := &Cache{up: up, store: store, cfg: cfg, root: root, stop: stop, name: fmt.Sprintf("entitycache-%d", caches.Add(1))}
	if n, ok := store.(Notifier); ok {
		c.listener.Go(func() {
			n.Listen(root, func(keys []string) {
				c.epoch.Add(1)
				c.deleted(keys)
			})
		})
	}
	return c
}

// caches numbers the caches of a process (tests make several).
var caches atomic.Uint64

// Close ends the background refreshes and the listening for other
// replicas' deletions, and waits for them.
func (c *Cache) Close() {
	c.stop()
	c.wg.Wait()
	c.listener.Wait()
}

// Keys of the cache's one keyspace, shared by GraphQL and REST.
const (
	keyUsers  = "users"
	keyEvents = "events"
)

func keyUser(id string) string  { return "user:" + id }
func keyEvent(id string) string { return "event:" + id }

// Users returns every user.
func (c *Cache) Users(ctx context.Context) ([]eventapi.User, error) {
	v, err := c.get(ctx, "users", keyUsers, func(ctx context.Context) (any, error) {
		us, err := c.up.Users(ctx)
		if err == nil {
			c.prime(ctx, us, nil)
		}
		return us, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]eventapi.User), nil
}

// Events returns every event.
func (c *Cache) Events(ctx context.Context) ([]eventapi.Event, error) {
	v, err := c.get(ctx, "events", keyEvents, func(ctx context.Context) (any, error) {
		es, err := c.up.Events(ctx)
		if err == nil {
			c.prime(ctx, nil, es)
		}
		return es, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]eventapi.Event), nil
}

// User returns the user with id, or eventapi.ErrNotFound.
func (c *Cache) User(ctx context.Context, id string) (*eventapi.User, error) {
	v, err := c.get(ctx, "user", keyUser(id), func(ctx context.Context) (any, error) {
		return c.up.User(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return v.(*eventapi.User), nil
}

// Event returns the event with id, or eventapi.ErrNotFound.
func (c *Cache) Event(ctx context.Context, id string) (*eventapi.Event, error) {
	v, err := c.get(ctx, "event", keyEvent(id), func(ctx context.Context) (any, error) {
		return c.up.Event(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	return v.(*eventapi.Event), nil
}

// AddEvent stores e upstream and, once it is stored, forgets what it
// changed (the user's event list and both lists) before returning, so the
// next read through this cache shows the event: the fills in flight, which
// may have fetched before the write, neither store their answers nor are
// joined by reads from now on (see fill). The new event itself is
// remembered as fetched now.
func (c *Cache) AddEvent(ctx context.Context, e eventapi.Event) error {
	if err := c.up.AddEvent(ctx, e); err != nil {
		return err
	}
	c.Invalidate(ctx, keyUser(e.UserID), keyUsers, keyEvents)
	stored := e
	c.store.Set(ctx, keyEvent(e.ID), Entry{Value: &stored, Fetched: c.cfg.Now()})
	return nil
}

type revalidateKey struct{}

// WithRevalidate asks the cache to fetch again, for the reads under ctx,
// the entries it would serve fresh: a whole answer refreshed ahead of its
// expiry is then built from entries as new as the upstream's. A fetch that
// fails still falls back to what the cache holds.
func WithRevalidate(ctx context.Context) context.Context {
	return context.WithValue(ctx, revalidateKey{}, true)
}

func revalidating(ctx context.Context) bool { return ctx.Value(revalidateKey{}) != nil }

// Invalidate forgets keys in this replica and, through the shared level,
// in every replica, and tells Config.Deleted before it returns: fills in
// flight are neither stored nor joined any more.
func (c *Cache) Invalidate(ctx context.Context, keys ...string) {
	c.epoch.Add(1)
	c.store.Delete(ctx, keys...)
	c.deleted(keys)
}

func (c *Cache) deleted(keys []string) {
	if c.cfg.Deleted != nil {
		c.cfg.Deleted(keys)
	}
}

// prime remembers the entities a list answer carried, so that lookups by id
// that follow cost nothing: ctx is the list's fill's (fillContext), and
// like its list, they are not stored if a write came since the fill began.
func (c *Cache) prime(ctx context.Context, users []eventapi.User, events []eventapi.Event) {
	epoch, ok := ctx.Value(fillEpochKey{}).(uint64)
	if !ok {
		return
	}
	now := c.cfg.Now()
	for i := range users {
		c.storeIf(ctx, epoch, keyUser(users[i].ID), Entry{Value: &users[i], Fetched: now})
	}
	for i := range events {
		c.storeIf(ctx, epoch, keyEvent(events[i].ID), Entry{Value: &events[i], Fetched: now})
	}
}

// get answers key from the cache or through fetch, as the package comment
// describes. A nil value with a nil error never escapes: not found is
// eventapi.ErrNotFound.
func (c *Cache) get(ctx context.Context, kind, key string, fetch func(context.Context) (any, error)) (any, error) {
	e, ok := c.lookup(ctx, key)
	if v, err, served := c.serve(ctx, kind, key, e, ok, fetch); served {
		return v, err
	}
	var age time.Duration
	if ok {
		age = c.cfg.Now().Sub(e.Fetched)
	}
	c.hook(c.cfg.Hooks.Miss, kind)
	traceLookup(ctx, "miss", key)
	v, err := c.fill(ctx, key, fetch)
	switch {
	case err == nil:
		ReportFrom(ctx).record(key, 0, c.cfg.Fresh, false)
		return v, nil
	case errors.Is(err, eventapi.ErrNotFound):
		return nil, err
	case ok && !e.NotFound && age < c.cfg.StaleIfError && ctx.Err() == nil:
		// The upstream failed: what we saw before beats an error.
		c.hook(c.cfg.Hooks.Stale, kind)
		traceLookup(ctx, "stale_if_error", key)
		ReportFrom(ctx).record(key, age, 0, true)
		return e.Value, nil
	}
	return nil, err
}

// serve answers key from e, what lookup found (ok), if it is fresh or may
// be served stale while fetch refreshes it; served is false otherwise.
func (c *Cache) serve(ctx context.Context, kind, key string, e Entry, ok bool, fetch func(context.Context) (any, error)) (v any, err error, served bool) {
	if !ok || (revalidating(ctx) && !e.NotFound) {
		return nil, nil, false
	}
	age := c.cfg.Now().Sub(e.Fetched)
	switch {
	case e.NotFound && age < c.cfg.NegativeTTL:
		c.hook(c.cfg.Hooks.Hit, kind)
		traceLookup(ctx, "hit", key)
		ReportFrom(ctx).record(key, age, c.cfg.NegativeTTL-age, false)
		return nil, eventapi.ErrNotFound, true
	case !e.NotFound && age < c.cfg.Fresh:
		c.hook(c.cfg.Hooks.Hit, kind)
		traceLookup(ctx, "hit", key)
		ReportFrom(ctx).record(key, age, c.cfg.Fresh-age, false)
		return e.Value, nil, true
	case !e.NotFound && age < c.cfg.Fresh+c.cfg.StaleWhileRevalidate:
		c.hook(c.cfg.Hooks.Stale, kind)
		traceLookup(ctx, "stale", key)
		ReportFrom(ctx).record(key, age, 0, true)
		c.refresh(ctx, kind, key, fetch)
		return e.Value, nil, true
	}
	return nil, nil, false
}

// fill fetches key once for every caller asking at the same time and
// stores the answer (not found included), unless a write happened while it
// was in flight: then what it fetched may predate the write, and callers
// arriving after the write start a new fill instead of joining this one.
// Nor does the new fill's fetch join, at the upstream client, a call the
// old one made (fillContext). Callers whose contexts the client keeps
// apart (a write's check with its smaller retry budget, a read) do not
// share a fill either. The fill goes on, detached, when its first caller
// leaves; batched fills (batch.go) join the same calls.
func (c *Cache) fill(ctx context.Context, key string, fetch func(context.Context) (any, error)) (any, error) {
	epoch := c.epoch.Load()
	fk := flightKey(ctx, key, epoch)
	call, lead := c.fills.Join(fk)
	if lead {
		go func() {
			fctx, cancel := detach.From(c.root, ctx)
			defer cancel()
			v, err := c.fillOne(fctx, epoch, key, fetch)
			c.fills.Land(fk, call, v, err)
		}()
	}
	select {
	case <-call.Done():
		return call.Result()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fillOne is one fill of key: the store first (a fill that finished
// between the caller's look and this one left its answer there), the
// fleet's fill lease when the store has one, then fetch, whose answer it
// stores if no write came since epoch.
func (c *Cache) fillOne(ctx context.Context, epoch uint64, key string, fetch func(context.Context) (any, error)) (any, error) {
	if e, ok := c.lookup(ctx, key); ok && c.fresh(e) && !revalidating(ctx) {
		return entryValue(e)
	}
	if l, ok := c.store.(Leaser); ok {
		release, mine := l.Lease(ctx, key, c.cfg.FillLease)
		var e Entry
		if mine {
			defer release()
			// Another replica may have finished its fill just before.
			e, ok = c.lookup(ctx, key)
			ok = ok && c.fresh(e)
		} else {
			e, ok = c.awaitFleetFill(ctx, key)
		}
		if ok {
			return entryValue(e)
		}
	}
	v, err := fetch(c.fillContext(ctx, epoch))
	switch {
	case err == nil:
		c.storeIf(ctx, epoch, key, Entry{Value: v, Fetched: c.cfg.Now()})
	case errors.Is(err, eventapi.ErrNotFound):
		c.storeIf(ctx, epoch, key, Entry{NotFound: true, Fetched: c.cfg.Now()})
	}
	return v, err
}

// awaitFleetFill waits, while another replica holds the fill lease of key,
// for the entry it will store: identical reads across a fleet then cost
// one upstream call. It gives up after FillLease without an entry (that
// replica failed or died), and the caller fetches itself.
func (c *Cache) awaitFleetFill(ctx context.Context, key string) (Entry, bool) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(c.cfg.FillLease)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return Entry{}, false
		case <-deadline.C:
			return Entry{}, false
		case <-tick.C:
			if e, ok := c.lookup(ctx, key); ok && c.fresh(e) && !revalidating(ctx) {
				return e, true
			}
		}
	}
}

// lookup reads key from the store and, when this replica's own entry is
// not fresh, from the level the fleet shares, where another replica may
// have stored a newer one.
func (c *Cache) lookup(ctx context.Context, key string) (Entry, bool) {
	e, ok := c.store.Get(ctx, key)
	if ok && c.fresh(e) {
		return e, true
	}
	if l, layered := c.store.(Layered); layered {
		if s, found := l.GetShared(ctx, key); found && (!ok || s.Fetched.After(e.Fetched)) {
			return s, true
		}
	}
	return e, ok
}

// fresh reports whether e may be served without asking the upstream.
func (c *Cache) fresh(e Entry) bool {
	age := c.cfg.Now().Sub(e.Fetched)
	if e.NotFound {
		return age < c.cfg.NegativeTTL
	}
	return age < c.cfg.Fresh
}

// storeIf stores e, which a fill that began at epoch fetched, unless a
// write came since. A write that comes while e is being stored may have
// deleted key just before: then e is taken back (from this replica's
// levels only; the write has told the others), which costs at worst a
// fetch that was not needed.
func (c *Cache) storeIf(ctx context.Context, epoch uint64, key string, e Entry) {
	if c.epoch.Load() != epoch {
		return
	}
	c.store.Set(ctx, key, e)
	if c.epoch.Load() != epoch {
		if f, ok := c.store.(Forgetter); ok {
			f.Forget(ctx, key)
		} else {
			c.store.Delete(ctx, key)
		}
	}
}

// fillEpochKey carries, in a fill's context, the epoch the fill began at.
type fillEpochKey struct{}

// fillContext is ctx for the fetch of a fill that began at epoch: the
// upstream client shares its calls only with fetches of the same epoch of
// this cache (eventapi.WithShareScope), so that a fill after a write, even
// one another replica made, never joins a call that started before it;
// and what the fetch primes is stored under the same rule as its answer.
func (c *Cache) fillContext(ctx context.Context, epoch uint64) context.Context {
	ctx = context.WithValue(ctx, fillEpochKey{}, epoch)
	return eventapi.WithShareScope(ctx, c.name+"@"+strconv.FormatUint(epoch, 10))
}

// refresh starts one background fill of key, unless one is running. It
// belongs to the cache, not to the request that noticed the entry was
// stale: it is bounded by RefreshTimeout and ended by Close.
func (c *Cache) refresh(ctx context.Context, kind, key string, fetch func(context.Context) (any, error)) {
	if _, running := c.refreshing.LoadOrStore(key, struct{}{}); running {
		return
	}
	c.hook(c.cfg.Hooks.Refresh, kind)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.refreshing.Delete(key)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.RefreshTimeout)
		defer cancel()
		stop := context.AfterFunc(c.root, cancel)
		defer stop()
		_, _ = c.fill(rctx, key, fetch)
	}()
}

func (c *Cache) hook(f func(string), kind string) {
	if f != nil {
		f(kind)
	}
}

// traceLookup notes a lookup's result on the caller's span (the loader
// batch's, or the resolver's).
func traceLookup(ctx context.Context, result, key string) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("cache."+result, trace.WithAttributes(attribute.String("cache.key", key)))
	}
}

// flightKey is the key of the fill of key that callers under ctx join at
// epoch: the upstream's share key of ctx (eventapi.ShareKey) is part of
// it, so that the cache never joins calls the client would keep apart.
func flightKey(ctx context.Context, key string, epoch uint64) string {
	return key + "\x00" + strconv.FormatUint(epoch, 10) + eventapi.ShareKey(ctx)
}
