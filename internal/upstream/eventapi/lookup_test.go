package eventapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/testwait"
)

func fixedLimit(n int) func(*Config) {
	return func(c *Config) { c.MaxConcurrency, c.MinConcurrency = n, n }
}

func eventIDs(user string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-e%d", user, i+1)
	}
	return ids
}

// Lookups queued behind the limit are places in its queue, not goroutines:
// 200 lookups under a limit of 4 hold 4 calls' goroutines, and all 200
// come back in order.
func TestQueuedLookupsHoldNoGoroutines(t *testing.T) {
	sim, url, g := gatedSimServer(t, eventsim.Config{Users: 1, EventsPerUser: 200})
	c := newClient(t, url, fixedLimit(4))
	ids := eventIDs("u1", 200)
	before := runtime.NumGoroutine()
	type result struct {
		es   []*Event
		errs []error
	}
	done := make(chan result, 1)
	go func() {
		es, errs := c.EventsByID(context.Background(), ids)
		done <- result{es, errs}
	}()
	for range 4 {
		testwait.Recv(t, g.arrived, "the first 4 calls to reach the upstream")
	}
	testwait.For(t, func() bool { return c.ConcurrencyLimits()[RouteGetEventByID].Waiting == 196 })
	select {
	case p := <-g.arrived:
		t.Fatalf("a fifth call (%s) reached the upstream under a limit of 4", p)
	default:
	}
	// The caller, 4 calls with their connections (2 goroutines each on
	// both sides) and the test server's listener: far from one per lookup.
	if extra := runtime.NumGoroutine() - before; extra > 30 {
		t.Errorf("%d goroutines for 200 lookups under a limit of 4, want about 20", extra)
	}
	g.open()
	r := testwait.Recv(t, done, "the lookups")
	for i, id := range ids {
		if r.errs[i] != nil || r.es[i] == nil || r.es[i].ID != id {
			t.Fatalf("result %d: %+v, %v; want event %s", i, r.es[i], r.errs[i], id)
		}
	}
	if got := sim.Count(eventsim.RouteGetEventByID); got != 200 {
		t.Errorf("%d upstream calls for 200 distinct ids", got)
	}
}

// A caller that leaves while its lookups wait drops the ones nobody else
// joined; a lookup another caller joined still happens, for that caller.
func TestLeavingCallerDropsOnlyUnjoinedLookups(t *testing.T) {
	sim, url, g := gatedSimServer(t, eventsim.Config{Users: 1, EventsPerUser: 5})
	c := newClient(t, url, fixedLimit(1))
	ids := eventIDs("u1", 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan []error, 1)
	go func() { _, errs := c.EventsByID(ctx, ids); first <- errs }()
	testwait.Recv(t, g.arrived, "the first lookup to reach the upstream")
	waiting := make(chan struct{}, 1)
	second := make(chan error, 1)
	go func() {
		e, err := c.Event(testwait.WaitingContext(context.Background(), waiting), "u1-e3")
		if err == nil && e.ID != "u1-e3" {
			err = errors.New("wrong event " + e.ID)
		}
		second <- err
	}()
	testwait.Recv(t, waiting, "the second caller to join u1-e3")
	cancel()
	errs := testwait.Recv(t, first, "the first caller to leave")
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("first caller, lookup %d: %v, want canceled", i, err)
		}
	}
	g.open()
	if err := testwait.Recv(t, second, "the joined lookup"); err != nil {
		t.Fatalf("the joined lookup failed when its leader left: %v", err)
	}
	// u1-e1 was in flight and u1-e3 joined: nothing else reaches the upstream.
	testwait.For(t, func() bool { return c.ConcurrencyLimits()[RouteGetEventByID].InFlight == 0 })
	if got := sim.Count(eventsim.RouteGetEventByID); got != 2 {
		t.Errorf("%d upstream calls after the caller left, want 2 (the one in flight, the joined one)", got)
	}
	if w := c.ConcurrencyLimits()[RouteGetEventByID].Waiting; w != 0 {
		t.Errorf("%d places left in the queue", w)
	}
}

// Unknown ids and failures are per id; the others still answer.
func TestEventsByIDAnswersEachIDAlone(t *testing.T) {
	sim, url := simServer(t, eventsim.Config{Users: 1, EventsPerUser: 3})
	sim.FailEvent("u1-e2", http.StatusBadRequest, 10)
	c := newClient(t, url, nil)
	es, errs := c.EventsByID(context.Background(), []string{"u1-e1", "u1-e2", "nope", "u1-e3"})
	if errs[0] != nil || es[0] == nil || es[0].ID != "u1-e1" || errs[3] != nil || es[3] == nil || es[3].ID != "u1-e3" {
		t.Errorf("known ids: %+v %+v, %v %v", es[0], es[3], errs[0], errs[3])
	}
	var ae *Error
	if !errors.As(errs[1], &ae) || ae.Kind != KindRejected {
		t.Errorf("failing id: %v, want KindRejected", errs[1])
	}
	if !errors.Is(errs[2], ErrNotFound) || es[2] != nil {
		t.Errorf("unknown id: %+v, %v; want ErrNotFound", es[2], errs[2])
	}
}

// Upstream answers are read so that their connection is reused.
func TestConnectionsAreReused(t *testing.T) {
	s := eventsim.New(eventsim.Config{Users: 1, EventsPerUser: 3})
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, nil)
	for i := range 20 {
		id := fmt.Sprintf("u1-e%d", i%3+1)
		if _, err := c.Event(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if _, err := c.User(context.Background(), "nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 40 sequential calls, want 1", n)
	}
}

// After a burst, at most MaxIdleConns connections stay open for reuse.
func TestIdleConnectionsAreBounded(t *testing.T) {
	s := eventsim.New(eventsim.Config{Users: 1, EventsPerUser: 50})
	release := make(chan struct{})
	arrived := make(chan struct{}, 50)
	var open atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		s.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, func(c *Config) { fixedLimit(50)(c); c.MaxIdleConns = 4 })
	done := make(chan []error, 1)
	go func() { _, errs := c.EventsByID(context.Background(), eventIDs("u1", 50)); done <- errs }()
	for range 50 {
		testwait.Recv(t, arrived, "50 calls in flight at once")
	}
	close(release)
	for _, err := range testwait.Recv(t, done, "the burst") {
		if err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, func() bool { return open.Load() == 4 })
}
