package eventfeed

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/state/fleet"
	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

func recv(t *testing.T, s *Subscription) eventapi.Event {
	t.Helper()
	select {
	case e, ok := <-s.C:
		if !ok {
			t.Fatalf("stream closed: %v", s.Err())
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	panic("unreachable")
}

func newFeed(t *testing.T, bus Bus, buffer int) *Feed {
	f := New(bus, buffer, Hooks{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestEachEventReachesEachMatchingSubscriberOnce(t *testing.T) {
	f := newFeed(t, &Memory{}, 8)
	ctx := context.Background()
	all := f.Subscribe(ctx, "")
	two := f.Subscribe(ctx, "2")
	_ = f.Publish(ctx, eventapi.Event{ID: "e1", UserID: "1"})
	_ = f.Publish(ctx, eventapi.Event{ID: "e1", UserID: "1"}) // found again by the poller
	_ = f.Publish(ctx, eventapi.Event{ID: "e2", UserID: "2"})
	if e := recv(t, all); e.ID != "e1" {
		t.Errorf("all: %s; want e1", e.ID)
	}
	if e := recv(t, all); e.ID != "e2" {
		t.Errorf("all: %s; want e2 (e1 only once)", e.ID)
	}
	if e := recv(t, two); e.ID != "e2" {
		t.Errorf("user 2: %s; want e2 only", e.ID)
	}
	if len(all.C)+len(two.C) != 0 {
		t.Error("an event was delivered twice")
	}
}

func TestASlowSubscriberIsDroppedNotBuffered(t *testing.T) {
	f := newFeed(t, &Memory{}, 2)
	ctx := context.Background()
	slow := f.Subscribe(ctx, "")
	fast := f.Subscribe(ctx, "")
	for i := 0; i < 5; i++ {
		_ = f.Publish(ctx, eventapi.Event{ID: string(rune('a' + i))})
		recv(t, fast)
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 2 || !errors.Is(slow.Err(), ErrSlowConsumer) || f.Subscribers() != 1 {
		t.Errorf("slow subscriber got %d (buffer 2), err %v, %d subscribers left; want dropped after its buffer", n, slow.Err(), f.Subscribers())
	}
}

func TestSubscriptionEndsWithItsContext(t *testing.T) {
	f := newFeed(t, &Memory{}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	s := f.Subscribe(ctx, "")
	cancel()
	for range s.C {
	}
	if s.Err() != nil || f.Subscribers() != 0 {
		t.Errorf("err %v, %d subscribers; want a clean end", s.Err(), f.Subscribers())
	}
}

// upstream is a list of events a test adds to, as other clients would.
type upstream struct {
	mu     sync.Mutex
	events []eventapi.Event
	lists  int
}

func (u *upstream) add(e eventapi.Event) { u.mu.Lock(); u.events = append(u.events, e); u.mu.Unlock() }
func (u *upstream) list(context.Context) ([]eventapi.Event, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lists++
	return append([]eventapi.Event(nil), u.events...), nil
}
func (u *upstream) count() int { u.mu.Lock(); defer u.mu.Unlock(); return u.lists }

func TestThePollerFindsOtherClientsEventsOnlyWhileSubscribed(t *testing.T) {
	up := &upstream{events: []eventapi.Event{{ID: "old"}}}
	f := newFeed(t, &Memory{}, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &Poller{Feed: f, List: up.list, Interval: 5 * time.Millisecond}
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	if up.count() != 0 {
		t.Fatal("polled with nobody subscribed")
	}
	s := f.Subscribe(ctx, "")
	testwait.For(t, func() bool { return up.count() >= 1 }) // the baseline
	up.add(eventapi.Event{ID: "new"})
	if e := recv(t, s); e.ID != "new" {
		t.Errorf("got %s; want only the event added after the baseline", e.ID)
	}
	cancel()
	<-done
}

// Replicas sharing Redis: a publication on one reaches the subscribers of
// all, and only one replica holds the poller's lease.
func TestRedisBusAcrossReplicas(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	a, b := NewRedis(rdb, prefix, nil), NewRedis(rdb, prefix, nil)
	fa, fb := newFeed(t, a, 8), newFeed(t, b, 8)
	sb := fb.Subscribe(context.Background(), "")
	_ = fa.Publish(context.Background(), eventapi.Event{ID: "x", Name: "from A"})
	if e := recv(t, sb); e.ID != "x" || e.Name != "from A" {
		t.Errorf("replica B got %+v", e)
	}
	ctx := context.Background()
	okA, errA := a.Lease(ctx, time.Minute)
	okB, errB := b.Lease(ctx, time.Minute)
	again, _ := a.Lease(ctx, time.Minute)
	if errA != nil || errB != nil || !okA || okB || !again {
		t.Errorf("lease: A %v B %v A again %v (%v %v); want A only, renewable", okA, okB, again, errA, errB)
	}
}

func TestOpenSharesEventsAcrossTheFleetOnlyOnRedis(t *testing.T) {
	opts, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := redistest.Prefix(t)
	open := func(conn *fleet.Conn) *Feed {
		f, err := Open(conn, 8, Poller{List: func(context.Context) ([]eventapi.Event, error) { return nil, nil }, Interval: time.Hour}, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		return f
	}
	conn := func() *fleet.Conn {
		c := fleet.Dial(opts, prefix, slog.New(slog.DiscardHandler), nil)
		t.Cleanup(c.Close)
		return c
	}
	a, b := open(conn()), open(conn())
	sub := b.Subscribe(context.Background(), "")
	testwait.Until(t, "b's subscription to reach Redis", func() bool {
		_ = a.Publish(context.Background(), eventapi.Event{ID: "e1", UserID: "1"})
		return len(sub.C) > 0
	})
	if e := recv(t, sub); e.ID != "e1" {
		t.Errorf("replica b received %s, want replica a's e1", e.ID)
	}

	alone, other := open(nil), open(nil) // no Redis: each replica its own memory
	mine := other.Subscribe(context.Background(), "")
	_ = alone.Publish(context.Background(), eventapi.Event{ID: "e2", UserID: "1"})
	_ = other.Publish(context.Background(), eventapi.Event{ID: "e3", UserID: "1"})
	if e := recv(t, mine); e.ID != "e3" {
		t.Errorf("without Redis a replica received %s, want only its own e3", e.ID)
	}
}
