package entitycache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// batchFake is a fakeUpstream that also looks up many events in one call,
// and records each such call's ids; ids starting with "gone" are unknown.
type batchFake struct {
	*fakeUpstream
	bmu     sync.Mutex
	batches []string
}

func (b *batchFake) EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error) {
	b.bmu.Lock()
	b.batches = append(b.batches, fmt.Sprint(ids))
	b.bmu.Unlock()
	es, errs := make([]*eventapi.Event, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		if len(id) >= 4 && id[:4] == "gone" {
			errs[i] = eventapi.ErrNotFound
			continue
		}
		es[i], errs[i] = b.Event(ctx, id)
	}
	return es, errs
}

func (b *batchFake) seen() []string {
	b.bmu.Lock()
	defer b.bmu.Unlock()
	return append([]string(nil), b.batches...)
}

// Plain misses go to the upstream in one batch and are stored; fresh
// entries and remembered not-founds are answered from the store; an entry
// past its freshness is served stale as a single read would be.
func TestEventsByIDBatchesOnlyPlainMisses(t *testing.T) {
	up := &batchFake{fakeUpstream: newFake()}
	c, clk, n := newCache(t, up, 100)
	ctx := context.Background()

	es, errs := c.EventsByID(ctx, []string{"a", "gone1", "b"})
	if errs[0] != nil || es[0].ID != "a" || errs[2] != nil || es[2].ID != "b" || !errors.Is(errs[1], eventapi.ErrNotFound) {
		t.Fatalf("first read: %v %v", es, errs)
	}
	if got := up.seen(); len(got) != 1 || got[0] != "[a gone1 b]" {
		t.Fatalf("upstream batches %v, want one with the 3 misses", got)
	}
	clk.Advance(time.Second)
	es, errs = c.EventsByID(ctx, []string{"b", "gone1", "c", "a"})
	if errs[0] != nil || es[0].ID != "b" || !errors.Is(errs[1], eventapi.ErrNotFound) || errs[2] != nil || es[2].ID != "c" || es[3].ID != "a" {
		t.Fatalf("second read: %v %v", es, errs)
	}
	if got := up.seen(); len(got) != 2 || got[1] != "[c]" {
		t.Fatalf("upstream batches %v, want only c fetched again", got)
	}
	if n.hit.Load() != 3 || n.miss.Load() != 4 {
		t.Errorf("hits %d misses %d, want 3 and 4", n.hit.Load(), n.miss.Load())
	}

	clk.Advance(5 * time.Second) // a, b and c are past fresh: stale, refreshed one by one
	es, errs = c.EventsByID(ctx, []string{"a", "d"})
	if errs[0] != nil || es[0].ID != "a" || errs[1] != nil || es[1].ID != "d" {
		t.Fatalf("third read: %v %v", es, errs)
	}
	c.wg.Wait()
	if got := up.seen(); len(got) != 3 || got[2] != "[d]" {
		t.Errorf("upstream batches %v, want only the plain miss d batched", got)
	}
	if n.stale.Load() != 1 || n.refresh.Load() != 1 {
		t.Errorf("stale %d refreshes %d, want a served stale and refreshed once", n.stale.Load(), n.refresh.Load())
	}
}

// A write while a batch is in flight keeps its answers out of the store:
// they may predate the write.
func TestBatchOlderThanAWriteIsNotStored(t *testing.T) {
	up := &batchFake{fakeUpstream: newFake()}
	up.set(func(f *fakeUpstream) { f.gate, f.inside = make(chan struct{}), make(chan struct{}, 1) })
	c, _, _ := newCache(t, up, 100)
	done := make(chan error, 1)
	go func() { _, errs := c.EventsByID(context.Background(), []string{"x"}); done <- errs[0] }()
	testwait.Recv(t, up.inside, "the batch to reach the upstream")
	if err := c.AddEvent(context.Background(), eventapi.Event{ID: "new", UserID: "1"}); err != nil {
		t.Fatal(err)
	}
	close(up.gate)
	if err := testwait.Recv(t, done, "the batch"); err != nil {
		t.Fatal(err)
	}
	up.set(func(f *fakeUpstream) { f.gate, f.inside = nil, nil })
	if _, errs := c.EventsByID(context.Background(), []string{"x"}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if got := up.seen(); len(got) != 2 {
		t.Errorf("upstream batches %v: the answer from before the write was stored", got)
	}
}

// ctxBatchFake's batch lookup waits for gate or for its caller to leave.
type ctxBatchFake struct {
	*fakeUpstream
	gate chan struct{}
}

func (b *ctxBatchFake) EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error) {
	b.inside <- struct{}{}
	es, errs := make([]*eventapi.Event, len(ids)), make([]error, len(ids))
	select {
	case <-b.gate:
		for i, id := range ids {
			es[i] = &eventapi.Event{ID: id, Name: "n"}
		}
	case <-ctx.Done():
		for i := range ids {
			errs[i] = ctx.Err()
		}
	}
	return es, errs
}

// A request that joined another's fill still gets the answer when the
// other request leaves: the fill goes on without it.
func TestJoinedFillSurvivesItsLeaderLeaving(t *testing.T) {
	up := &ctxBatchFake{fakeUpstream: newFake(), gate: make(chan struct{})}
	up.set(func(f *fakeUpstream) { f.inside = make(chan struct{}, 4) })
	c, _, _ := newCache(t, up, 100)
	first, cancel := context.WithCancel(context.Background())
	defer cancel()
	left := make(chan error, 1)
	go func() { _, errs := c.EventsByID(first, []string{"x"}); left <- errs[0] }()
	testwait.Recv(t, up.inside, "the first request's fill to reach the upstream")
	waiting := make(chan struct{}, 1)
	second := make(chan *eventapi.Event, 1)
	go func() {
		es, errs := c.EventsByID(testwait.WaitingContext(context.Background(), waiting), []string{"x"})
		if errs[0] != nil {
			t.Error(errs[0])
		}
		second <- es[0]
	}()
	testwait.Recv(t, waiting, "the second request to join the fill")
	cancel()
	if err := testwait.Recv(t, left, "the first request to leave"); !errors.Is(err, context.Canceled) {
		t.Fatalf("first request: %v, want canceled", err)
	}
	// The fill goes on through the single lookup, which the gate also holds.
	testwait.Recv(t, up.inside, "the fill to go on without the first request")
	up.set(func(f *fakeUpstream) { f.gate = up.gate })
	close(up.gate)
	if e := testwait.Recv(t, second, "the second request's answer"); e == nil || e.ID != "x" {
		t.Fatalf("second request got %+v", e)
	}
}
