package entitycache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// fakeUpstream counts calls per route and answers from a map; fail makes
// every read fail, and gate (when set) holds every read until closed.
type fakeUpstream struct {
	mu     sync.Mutex
	users  map[string]eventapi.User
	calls  map[string]int
	fail   error
	gate   chan struct{}
	inside chan struct{} // receives once per read that reached the upstream
}

func newFake() *fakeUpstream {
	return &fakeUpstream{
		users: map[string]eventapi.User{"1": {ID: "1", UserName: "ann", Events: []string{"e1"}}},
		calls: map[string]int{},
	}
}

func (f *fakeUpstream) enter(route string) error {
	f.mu.Lock()
	f.calls[route]++
	gate, inside, fail := f.gate, f.inside, f.fail
	f.mu.Unlock()
	if inside != nil {
		inside <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	return fail
}

func (f *fakeUpstream) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[route]
}

func (f *fakeUpstream) set(fn func(f *fakeUpstream)) { f.mu.Lock(); fn(f); f.mu.Unlock() }

func (f *fakeUpstream) User(_ context.Context, id string) (*eventapi.User, error) {
	if err := f.enter("user"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return nil, eventapi.ErrNotFound
	}
	return &u, nil
}

func (f *fakeUpstream) Users(context.Context) ([]eventapi.User, error) {
	if err := f.enter("users"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []eventapi.User
	for _, u := range f.users {
		out = append(out, u)
	}
	return out, nil
}

func (f *fakeUpstream) Event(_ context.Context, id string) (*eventapi.Event, error) {
	if err := f.enter("event"); err != nil {
		return nil, err
	}
	return &eventapi.Event{ID: id, Name: "n"}, nil
}

func (f *fakeUpstream) UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error) {
	us, errs := make([]*eventapi.User, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		us[i], errs[i] = f.User(ctx, id)
	}
	return us, errs
}

func (f *fakeUpstream) EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error) {
	es, errs := make([]*eventapi.Event, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		es[i], errs[i] = f.Event(ctx, id)
	}
	return es, errs
}

func (f *fakeUpstream) Events(context.Context) ([]eventapi.Event, error) {
	if err := f.enter("events"); err != nil {
		return nil, err
	}
	return []eventapi.Event{{ID: "e1", Name: "n", UserID: "1"}}, nil
}

func (f *fakeUpstream) AddEvent(_ context.Context, e eventapi.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[e.UserID]
	u.Events = append(append([]string{}, u.Events...), e.ID)
	f.users[e.UserID] = u
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type counters struct{ hit, miss, stale, refresh atomic.Int32 }

func newCache(t *testing.T, up Upstream, capacity int) (*Cache, *clock, *counters) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	store, err := NewMemory(capacity, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &counters{}
	c := New(up, store, Config{
		Fresh: 5 * time.Second, StaleWhileRevalidate: time.Minute, StaleIfError: time.Hour, NegativeTTL: 2 * time.Second,
		Now: clk.Now,
		Hooks: Hooks{
			Hit:     func(string) { n.hit.Add(1) },
			Miss:    func(string) { n.miss.Add(1) },
			Stale:   func(string) { n.stale.Add(1) },
			Refresh: func(string) { n.refresh.Add(1) },
		},
	})
	t.Cleanup(c.Close)
	return c, clk, n
}

// read reads user 1 under a fresh report and returns what the report says.
func read(t *testing.T, c *Cache) (*eventapi.User, Summary, error) {
	t.Helper()
	ctx, rep := WithReport(context.Background())
	u, err := c.User(ctx, "1")
	return u, rep.Summary(), err
}

func TestAgesFreshStaleWhileRevalidateExpired(t *testing.T) {
	up := newFake()
	c, clk, n := newCache(t, up, 100)
	tests := []struct {
		name      string
		advance   time.Duration
		wantCalls int // upstream user calls after this read (and any refresh it started)
		wantStale bool
		wantAge   time.Duration
	}{
		{"first read fetches", 0, 1, false, 0},
		{"within fresh: memory", 4 * time.Second, 1, false, 4 * time.Second},
		{"past fresh: stale at once, refreshed behind", 2 * time.Second, 2, true, 6 * time.Second},
		{"the refresh made it fresh again", time.Second, 2, false, time.Second},
		{"past fresh + stale-while-revalidate: fetched", 5*time.Second + time.Minute, 3, false, 0},
	}
	for _, tt := range tests {
		clk.Advance(tt.advance)
		u, sum, err := read(t, c)
		if err != nil || u.UserName != "ann" {
			t.Fatalf("%s: %v %v", tt.name, u, err)
		}
		testwait.For(t, func() bool { return up.count("user") == tt.wantCalls }) // a refresh runs in the background
		if sum.Stale != tt.wantStale || sum.Age != tt.wantAge {
			t.Errorf("%s: stale %v age %s; want %v %s", tt.name, sum.Stale, sum.Age, tt.wantStale, tt.wantAge)
		}
		c.wg.Wait()
	}
	if n.hit.Load() != 2 || n.stale.Load() != 1 || n.refresh.Load() != 1 || n.miss.Load() != 2 {
		t.Errorf("hits %d stale %d refreshes %d misses %d; want 2 1 1 2", n.hit.Load(), n.stale.Load(), n.refresh.Load(), n.miss.Load())
	}
}

func TestOneBackgroundRefreshPerKey(t *testing.T) {
	up := newFake()
	c, clk, _ := newCache(t, up, 100)
	if _, _, err := read(t, c); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	up.set(func(f *fakeUpstream) { f.gate = gate })
	clk.Advance(10 * time.Second) // stale
	var g errgroup.Group
	for i := 0; i < 50; i++ {
		g.Go(func() error {
			u, sum, err := read(t, c)
			if err != nil || u == nil || !sum.Stale {
				return fmt.Errorf("stale read: %v %+v %v", u, sum, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil { // all answered while the refresh is held
		t.Fatal(err)
	}
	close(gate)
	c.wg.Wait()
	if n := up.count("user"); n != 2 {
		t.Errorf("%d upstream calls for 50 stale reads; want 2 (the first fetch and one refresh)", n)
	}
}

func TestConcurrentMissesShareOneFetch(t *testing.T) {
	up := newFake()
	gate := make(chan struct{})
	inside := make(chan struct{}, 100)
	up.set(func(f *fakeUpstream) { f.gate, f.inside = gate, inside })
	c, _, _ := newCache(t, up, 100)
	var g errgroup.Group
	for i := 0; i < 100; i++ {
		g.Go(func() error { _, _, err := read(t, c); return err })
	}
	<-inside
	close(gate)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := up.count("user"); n != 1 {
		t.Errorf("%d upstream calls for 100 concurrent identical misses; want 1", n)
	}
}

func TestStaleIfError(t *testing.T) {
	up := newFake()
	c, clk, _ := newCache(t, up, 100)
	if _, _, err := read(t, c); err != nil {
		t.Fatal(err)
	}
	down := &eventapi.Error{Kind: eventapi.KindUnavailable}
	up.set(func(f *fakeUpstream) { f.fail = down })
	clk.Advance(30 * time.Minute) // past fresh + stale-while-revalidate, within stale-if-error
	u, sum, err := read(t, c)
	if err != nil || u.UserName != "ann" || !sum.Stale || sum.Age != 30*time.Minute {
		t.Errorf("during the outage: %v %+v %v; want the stale user, 30m old", u, sum, err)
	}
	clk.Advance(31 * time.Minute) // past stale-if-error
	if _, _, err := read(t, c); !errors.Is(err, down) {
		t.Errorf("past stale-if-error: %v; want the upstream's failure", err)
	}
	// Nothing cached: the read fails exactly as without the cache.
	ctx, _ := WithReport(context.Background())
	if _, err := c.Event(ctx, "e9"); !errors.Is(err, down) {
		t.Errorf("uncached read during the outage: %v; want the upstream's failure", err)
	}
}

func TestNotFoundIsRememberedBriefly(t *testing.T) {
	up := newFake()
	c, clk, _ := newCache(t, up, 100)
	for i := 0; i < 10; i++ {
		if _, err := c.User(context.Background(), "404"); !errors.Is(err, eventapi.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
	}
	if n := up.count("user"); n != 1 {
		t.Errorf("%d upstream calls for 10 lookups of an unknown id; want 1", n)
	}
	clk.Advance(2 * time.Second)
	up.set(func(f *fakeUpstream) { f.users["404"] = eventapi.User{ID: "404", UserName: "late"} })
	if u, err := c.User(context.Background(), "404"); err != nil || u.UserName != "late" {
		t.Errorf("after the negative TTL: %v %v; want the user created meanwhile", u, err)
	}
}

func TestAWriteIsReadBackAtOnce(t *testing.T) {
	up := newFake()
	c, _, _ := newCache(t, up, 100)
	ctx := context.Background()
	if _, err := c.User(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.AddEvent(ctx, eventapi.Event{ID: "e2", Name: "new", UserID: "1"}); err != nil {
		t.Fatal(err)
	}
	u, err := c.User(ctx, "1")
	if err != nil || len(u.Events) != 2 || u.Events[1] != "e2" {
		t.Errorf("after the write: %+v %v; want e2 in the user's events", u, err)
	}
	if e, err := c.Event(ctx, "e2"); err != nil || e.Name != "new" || up.count("event") != 0 {
		t.Errorf("the new event: %+v %v after %d calls; want it remembered", e, err, up.count("event"))
	}
}

// A fill in flight when a write lands may carry the state before the write:
// it must neither be stored nor be joined by reads that follow the write.
func TestAFillOlderThanAWriteIsNotStoredOrJoined(t *testing.T) {
	up := newFake()
	gate := make(chan struct{})
	inside := make(chan struct{}, 10)
	up.set(func(f *fakeUpstream) { f.gate, f.inside = gate, inside })
	c, _, _ := newCache(t, up, 100)
	before := make(chan *eventapi.User, 1)
	go func() { u, _ := c.User(context.Background(), "1"); before <- u }()
	<-inside // the old fill is at the upstream, holding the user without e2
	up.set(func(f *fakeUpstream) { f.gate = nil })
	if err := c.AddEvent(context.Background(), eventapi.Event{ID: "e2", Name: "new", UserID: "1"}); err != nil {
		t.Fatal(err)
	}
	// Must not join the old fill, which is still held at the upstream.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	after, err := c.User(ctx, "1")
	if err != nil || len(after.Events) != 2 {
		t.Fatalf("read after the write: %+v %v; want e2", after, err)
	}
	close(gate)
	<-before
	if again, _ := c.User(context.Background(), "1"); len(again.Events) != 2 {
		t.Errorf("the old fill was stored over the write: %+v", again)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	var evictions atomic.Int32
	store, err := NewMemory(10, func() { evictions.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	c := New(newFake(), store, Config{})
	defer c.Close()
	for i := 0; i < 25; i++ {
		if _, err := c.Event(context.Background(), fmt.Sprint("e", i)); err != nil {
			t.Fatal(err)
		}
	}
	if store.Len() != 10 || evictions.Load() != 15 {
		t.Errorf("%d entries, %d evictions; want 10 and 15", store.Len(), evictions.Load())
	}
}
