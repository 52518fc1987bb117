package entitycache

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

func stores(t *testing.T) map[string]Store {
	rdb := redistest.Client(t)
	mem, _ := NewMemory(100, nil)
	local, _ := NewMemory(100, nil)
	return map[string]Store{
		"memory": mem,
		"redis":  NewRedis(rdb, redistest.Prefix(t), time.Hour, nil),
		"tiered": &Tiered{Local: local, Shared: NewRedis(rdb, redistest.Prefix(t), time.Hour, nil)},
	}
}

// Every Store keeps entries of every kind as they were given.
func TestStoreContract(t *testing.T) {
	at := time.UnixMilli(time.Now().UnixMilli())
	entries := map[string]Entry{
		"user:1":   {Value: &eventapi.User{ID: "1", UserName: "ann", Events: []string{"e1"}}, Fetched: at},
		"event:e1": {Value: &eventapi.Event{ID: "e1", Name: "n", UserID: "1"}, Fetched: at},
		"users":    {Value: []eventapi.User{{ID: "1"}, {ID: "2"}}, Fetched: at},
		"events":   {Value: []eventapi.Event{{ID: "e1"}}, Fetched: at},
		"user:404": {NotFound: true, Fetched: at},
	}
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for k, e := range entries {
				if _, ok := s.Get(ctx, k); ok {
					t.Fatalf("%s before Set", k)
				}
				s.Set(ctx, k, e)
				got, ok := s.Get(ctx, k)
				if !ok || !reflect.DeepEqual(got, e) {
					t.Errorf("%s: got %+v %v; want %+v", k, got, ok, e)
				}
			}
			s.Delete(ctx, "user:1", "users")
			for _, k := range []string{"user:1", "users"} {
				if _, ok := s.Get(ctx, k); ok {
					t.Errorf("%s after Delete", k)
				}
			}
			if _, ok := s.Get(ctx, "events"); !ok {
				t.Error("Delete removed a key it was not given")
			}
		})
	}
}

// Two replicas' caches sharing Redis: identical reads cost one upstream
// call across both, and a write on one is read back on the other.
func TestReplicasShareTheCache(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	up := newFake()
	newReplica := func() (*Cache, *Tiered) {
		local, _ := NewMemory(100, nil)
		tiered := &Tiered{Local: local, Shared: NewRedis(rdb, prefix, time.Hour, nil)}
		c := New(up, tiered, Config{})
		t.Cleanup(c.Close)
		<-tiered.Shared.Subscribed()
		return c, tiered
	}
	a, _ := newReplica()
	b, _ := newReplica()
	ctx := context.Background()

	gate := make(chan struct{})
	inside := make(chan struct{}, 4)
	up.set(func(f *fakeUpstream) { f.gate, f.inside = gate, inside })
	var wg sync.WaitGroup
	var fails atomic.Int32
	for _, c := range []*Cache{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if u, err := c.User(ctx, "1"); err != nil || u.UserName != "ann" {
				fails.Add(1)
			}
		}()
	}
	<-inside
	close(gate)
	wg.Wait()
	if fails.Load() > 0 || up.count("user") != 1 {
		t.Errorf("%d failed reads, %d upstream calls for identical reads on two replicas; want 0 and 1", fails.Load(), up.count("user"))
	}
	up.set(func(f *fakeUpstream) { f.gate, f.inside = nil, nil })

	if err := a.AddEvent(ctx, eventapi.Event{ID: "e2", Name: "new", UserID: "1"}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, func() bool {
		u, err := b.User(ctx, "1")
		return err == nil && len(u.Events) == 2
	})
}

// A replica whose own entry went stale takes another replica's newer fill
// from the shared level instead of fetching it again or serving it stale.
func TestAStaleReplicaTakesTheFleetsNewerFill(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	up := newFake()
	clk := &clock{t: time.Now()}
	newReplica := func() *Cache {
		local, _ := NewMemory(100, nil)
		c := New(up, &Tiered{Local: local, Shared: NewRedis(rdb, prefix, time.Hour, nil)}, Config{Now: clk.Now})
		t.Cleanup(c.Close)
		return c
	}
	a, b := newReplica(), newReplica()
	ctx := context.Background()
	if _, err := a.User(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.User(ctx, "1"); err != nil { // from the shared level
		t.Fatal(err)
	}
	clk.Advance(6 * time.Second) // both replicas' own entries are stale now
	if _, err := a.User(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait() // A's background refresh has stored a fresh entry in the shared level
	rctx, rep := WithReport(ctx)
	if _, err := b.User(rctx, "1"); err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary(); s.Stale || up.count("user") != 2 {
		t.Errorf("B: stale %v after %d upstream calls; want a fresh answer and 2 calls (the fill and A's refresh)", s.Stale, up.count("user"))
	}
}
