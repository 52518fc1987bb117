package entitycache

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// simAPI is the real upstream client over a simulator the test can hold
// answers of. Its attempts never time out, so a held call stays the one
// in flight for as long as the test holds it.
func simAPI(t *testing.T, sim *eventsim.Sim) *eventapi.Client {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api, err := eventapi.New(eventapi.Config{BaseURL: srv.URL, Timeout: time.Minute, MaxConcurrency: 64,
		Retry: eventapi.Retry{MaxRetries: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	return api
}

// simCache is a cache (memory, the default ages on a manual clock) over
// the real client over a simulator.
func simCache(t *testing.T) (*Cache, *eventsim.Sim, *clock) {
	t.Helper()
	sim := eventsim.New(eventsim.Config{})
	store, err := NewMemory(100, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New(simAPI(t, sim), store, Config{Now: clk.Now})
	t.Cleanup(c.Close)
	return c, sim, clk
}

// newEvent is the event the tests write, for user 1.
var newEvent = eventapi.Event{ID: "event-new", Name: "new", UserID: "1"}

// aRead reads through the cache and says whether its answer shows newEvent.
type aRead struct {
	name  string
	route string // the upstream route it calls on a miss
	read  func(ctx context.Context, c *Cache) (bool, error)
}

func userShows(u *eventapi.User) bool { return u != nil && slices.Contains(u.Events, newEvent.ID) }

var (
	readEvents = aRead{"events", eventsim.RouteGetEvents, func(ctx context.Context, c *Cache) (bool, error) {
		es, err := c.Events(ctx)
		return slices.ContainsFunc(es, func(e eventapi.Event) bool { return e.ID == newEvent.ID }), err
	}}
	readUsers = aRead{"users", eventsim.RouteGetUsers, func(ctx context.Context, c *Cache) (bool, error) {
		us, err := c.Users(ctx)
		i := slices.IndexFunc(us, func(u eventapi.User) bool { return u.ID == "1" })
		return i >= 0 && userShows(&us[i]), err
	}}
	readUser = aRead{"user:1", eventsim.RouteGetUserByID, func(ctx context.Context, c *Cache) (bool, error) {
		u, err := c.User(ctx, "1")
		return userShows(u), err
	}}
	readUserBatched = aRead{"user:1 batched", eventsim.RouteGetUserByID, func(ctx context.Context, c *Cache) (bool, error) {
		us, errs := c.UsersByID(ctx, []string{"1"})
		return userShows(us[0]), errs[0]
	}}
)

// readNow runs r and fails t unless it answers without waiting for a
// held call (within testwait's limit).
func readNow(t *testing.T, c *Cache, r aRead, what string) bool {
	t.Helper()
	type answer struct {
		seen bool
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		seen, err := r.read(context.Background(), c)
		ch <- answer{seen, err}
	}()
	a := testwait.Recv(t, ch, what+" (it must not wait for the call held at the upstream)")
	if a.err != nil {
		t.Errorf("%s: %v", what, a.err)
	}
	return a.seen
}

func stillHeld(t *testing.T, h *eventsim.Hold) {
	t.Helper()
	select {
	case <-h.Answered():
		t.Fatal("the held call was answered before its release: the test holds nothing")
	default:
	}
}

// A read that starts after a write has been answered never joins, nor
// stores, a fetch that started before the write: not for the lists, not
// for a user (whose events list the write changes), single or batched, and
// not for the entries a list fetched before the write would prime.
func TestAReadAfterAWriteNeverJoinsOrStoresAFetchFromBefore(t *testing.T) {
	tests := []struct {
		name         string
		before       aRead // held at the upstream across the write
		after, again aRead
	}{
		{"events", readEvents, readEvents, readEvents},
		{"users", readUsers, readUsers, readUsers},
		{"user:1", readUser, readUser, readUser},
		{"user:1 batched", readUserBatched, readUserBatched, readUserBatched},
		{"user:1 batched after a single fill", readUser, readUserBatched, readUserBatched},
		{"user:1 primed by a users list from before", readUsers, readUser, readUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sim, _ := simCache(t)
			hold := sim.HoldNext(tt.before.route)
			defer hold.Release()
			before := make(chan bool, 1)
			go func() { seen, _ := tt.before.read(context.Background(), c); before <- seen }()
			testwait.Recv(t, hold.Arrived(), "the read before the write to reach the upstream")
			if err := c.AddEvent(context.Background(), newEvent); err != nil {
				t.Fatal(err)
			}
			if !readNow(t, c, tt.after, "the read after the write") {
				t.Error("the read after the write lacks the new event")
			}
			stillHeld(t, hold)
			hold.Release()
			if testwait.Recv(t, before, "the read before the write") {
				t.Fatal("the held answer shows the write: the test holds nothing")
			}
			// Its answer was not stored over the write, nor primed.
			if !readNow(t, c, tt.again, "a read once the held fetch has ended") {
				t.Error("a read after the held fetch ended lacks the new event: the answer from before the write was stored")
			}
		})
	}
}

// A stale-while-revalidate refresh that started before a write is neither
// joined by the reads after it nor stored when it ends.
func TestAWriteDuringABackgroundRefresh(t *testing.T) {
	for _, r := range []aRead{readEvents, readUsers, readUser, readUserBatched} {
		t.Run(r.name, func(t *testing.T) {
			c, sim, clk := simCache(t)
			if _, err := r.read(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			clk.Advance(6 * time.Second) // past fresh (5s): served stale, refreshed behind
			hold := sim.HoldNext(r.route)
			defer hold.Release()
			if readNow(t, c, r, "a stale read") {
				t.Fatal("the stale read shows an event not written yet")
			}
			testwait.Recv(t, hold.Arrived(), "the background refresh to reach the upstream")
			if err := c.AddEvent(context.Background(), newEvent); err != nil {
				t.Fatal(err)
			}
			if !readNow(t, c, r, "the read after the write") {
				t.Error("the read after the write lacks the new event")
			}
			stillHeld(t, hold)
			hold.Release()
			c.wg.Wait() // the refresh has ended
			if !readNow(t, c, r, "a read once the refresh has ended") {
				t.Error("a read after the refresh ended lacks the new event: the refresh from before the write was stored")
			}
		})
	}
}

// blockingStore is a Memory whose first Set of key waits, once it has
// started, until release: the moment between a fill's check that no write
// came and its store.
type blockingStore struct {
	*Memory
	key      string
	once     sync.Once
	entered  chan struct{}
	released chan struct{}
}

func (b *blockingStore) Set(ctx context.Context, key string, e Entry) {
	if key == b.key {
		first := false
		b.once.Do(func() { first = true })
		if first {
			close(b.entered)
			<-b.released
		}
	}
	b.Memory.Set(ctx, key, e)
}

// A write that lands while a fill from before it is storing its answer
// (after the fill's check, before its store) still wins.
func TestAWriteBetweenAFillsCheckAndItsStore(t *testing.T) {
	for _, r := range []aRead{readEvents, readUser} {
		t.Run(r.name, func(t *testing.T) {
			sim := eventsim.New(eventsim.Config{})
			mem, _ := NewMemory(100, nil)
			key := keyEvents
			if r.route == eventsim.RouteGetUserByID {
				key = keyUser("1")
			}
			store := &blockingStore{Memory: mem, key: key, entered: make(chan struct{}), released: make(chan struct{})}
			c := New(simAPI(t, sim), store, Config{})
			t.Cleanup(c.Close)
			before := make(chan bool, 1)
			go func() { seen, _ := r.read(context.Background(), c); before <- seen }()
			testwait.Recv(t, store.entered, "the fill from before the write to store its answer")
			if err := c.AddEvent(context.Background(), newEvent); err != nil {
				t.Fatal(err)
			}
			close(store.released)
			if testwait.Recv(t, before, "the read before the write") {
				t.Fatal("the answer from before the write shows it")
			}
			if !readNow(t, c, r, "the read after both") {
				t.Error("the answer from before the write was stored over it")
			}
		})
	}
}

// A write by another replica has the same effect, once this replica has
// heard of it: its reads neither join nor wait for its own fetches from
// before the write (its fill lease included), nor store them.
func TestAnotherReplicasWriteDuringAFetch(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	sim := eventsim.New(eventsim.Config{})
	replica := func() *Cache {
		local, _ := NewMemory(100, nil)
		tiered := &Tiered{Local: local, Shared: NewRedis(rdb, prefix, time.Hour, nil)}
		// A lease long enough that waiting for one is a failure here.
		c := New(simAPI(t, sim), tiered, Config{FillLease: time.Minute})
		t.Cleanup(c.Close)
		<-tiered.Shared.Subscribed()
		return c
	}
	a, b := replica(), replica()
	for _, r := range []aRead{readUser, readEvents} {
		t.Run(r.name, func(t *testing.T) {
			hold := sim.HoldNext(r.route)
			defer hold.Release()
			before := make(chan bool, 1)
			go func() { seen, _ := r.read(context.Background(), a); before <- seen }()
			testwait.Recv(t, hold.Arrived(), "replica A's read to reach the upstream")
			heard := a.epoch.Load()
			if err := b.AddEvent(context.Background(), eventapi.Event{ID: newEvent.ID + "-" + r.name, Name: "n", UserID: "1"}); err != nil {
				t.Fatal(err)
			}
			testwait.Until(t, "replica A to hear of B's write", func() bool { return a.epoch.Load() != heard })
			shows := func(ctx context.Context, c *Cache) (bool, error) {
				if r.route == eventsim.RouteGetEvents {
					es, err := c.Events(ctx)
					return slices.ContainsFunc(es, func(e eventapi.Event) bool { return e.ID == newEvent.ID+"-"+r.name }), err
				}
				u, err := c.User(ctx, "1")
				return u != nil && slices.Contains(u.Events, newEvent.ID+"-"+r.name), err
			}
			if !readNow(t, a, aRead{r.name, r.route, shows}, "replica A's read after the write") {
				t.Error("replica A's read after B's write lacks the event")
			}
			stillHeld(t, hold)
			hold.Release()
			testwait.Recv(t, before, "replica A's read from before the write")
			testwait.Recv(t, hold.Answered(), "the held call")
			for name, c := range map[string]*Cache{"A": a, "B": b} {
				if !readNow(t, c, aRead{r.name, r.route, shows}, "replica "+name+"'s read once A's old fetch has ended") {
					t.Errorf("replica %s lacks the event once A's fetch from before the write has ended", name)
				}
			}
		})
	}
}
