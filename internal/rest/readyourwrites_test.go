package rest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// heldCache is a gateway with the entity cache on whose upstream calls do
// not time out: a call the simulator holds stays in flight until released.
func heldCache(t *testing.T) (*gateway, *servicetest.Clock) {
	t.Helper()
	g, clock, _ := cachedGateway(t, func(c *config.Config) {
		c.Upstream.Client.Timeout = time.Minute
		c.HTTP.RequestTimeout = time.Minute
		c.HTTP.WriteTimeout = 2 * time.Minute
		c.Idempotency.Lease = 2 * time.Minute
	})
	return g, clock
}

// eventIDsAt GETs path, a REST read answering a list of events, and
// returns their ids, or what went wrong.
func eventIDsAt(g *gateway, path string) ([]string, http.Header, error) {
	resp, raw, err := servicetest.Send(http.MethodGet, g.url+path, "", "", nil)
	if err != nil {
		return nil, nil, err
	}
	var es []struct{ ID string }
	if err := json.Unmarshal([]byte(raw), &es); err != nil {
		return nil, resp.Header, err
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids, resp.Header, nil
}

// getNow GETs path and fails t unless it answers without waiting for the
// call held at the upstream.
func getNow(t *testing.T, g *gateway, path, what string) []string {
	t.Helper()
	type answer struct {
		ids []string
		err error
	}
	ch := make(chan answer, 1)
	go func() { ids, _, err := eventIDsAt(g, path); ch <- answer{ids, err} }()
	a := testwait.Recv(t, ch, what+" (it must not wait for the call held at the upstream)")
	if a.err != nil {
		t.Fatalf("%s: %v", what, a.err)
	}
	return a.ids
}

// addEvent posts an event for user 1 and returns its id; it fails t
// unless the write answers without waiting for the call held at the
// upstream (its user check makes a call of its own).
func addEvent(t *testing.T, g *gateway) string {
	t.Helper()
	type answer struct {
		status int
		raw    string
		err    error
	}
	ch := make(chan answer, 1)
	go func() {
		resp, raw, err := servicetest.Send(http.MethodPost, g.url+"/addEvent", "application/json", `{"name":"written","userId":"1"}`, nil)
		if err != nil {
			ch <- answer{err: err}
			return
		}
		ch <- answer{resp.StatusCode, raw, nil}
	}()
	a := testwait.Recv(t, ch, "addEvent (it must not wait for the call held at the upstream)")
	var ok struct {
		Success bool
		Event   struct{ ID string }
	}
	if a.err != nil || a.status != http.StatusOK || json.Unmarshal([]byte(a.raw), &ok) != nil || !ok.Success {
		t.Fatalf("addEvent: %d %s %v", a.status, a.raw, a.err)
	}
	return ok.Event.ID
}

// Through the REST door with the cache on: a read that starts after
// addEvent has answered shows the event, even while a read from before
// the write is still waiting for the upstream, and that read's answer is
// not stored over the write when it comes.
func TestRESTReadYourWritesUnderAnInFlightRead(t *testing.T) {
	tests := []struct {
		name        string
		held        string // the upstream route the read before the write waits on
		before, now string // the REST reads before and after the write
	}{
		{"getEvents", eventsim.RouteGetEvents, "/getEvents", "/getEvents"},
		{"getEventsByUserId", eventsim.RouteGetUserByID, "/getEventsByUserId/1", "/getEventsByUserId/1"},
		{"getEventsByUserId after a getUsers from before", eventsim.RouteGetUsers, "/getUsers", "/getEventsByUserId/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := heldCache(t)
			hold := g.sim.HoldNext(tt.held)
			defer hold.Release()
			before := make(chan error, 1)
			go func() { _, _, err := servicetest.Send(http.MethodGet, g.url+tt.before, "", "", nil); before <- err }()
			testwait.Recv(t, hold.Arrived(), "the read before the write to reach the upstream")
			id := addEvent(t, g)
			if ids := getNow(t, g, tt.now, "the read after the write"); !slices.Contains(ids, id) {
				t.Errorf("GET %s after the write: %v; want %s among them", tt.now, ids, id)
			}
			hold.Release()
			if err := testwait.Recv(t, before, "the read before the write"); err != nil {
				t.Fatal(err)
			}
			if ids := getNow(t, g, tt.now, "a read once the one from before has ended"); !slices.Contains(ids, id) {
				t.Errorf("GET %s once the read from before the write has ended: %v; want %s: its answer was stored", tt.now, ids, id)
			}
		})
	}
}

// The same during a stale-while-revalidate refresh that started before the
// write: the reads after the write neither wait for it nor get its answer.
func TestRESTReadYourWritesDuringABackgroundRefresh(t *testing.T) {
	tests := []struct {
		name, held, path string
	}{
		{"getEventsByUserId", eventsim.RouteGetUserByID, "/getEventsByUserId/1"},
		{"getEvents", eventsim.RouteGetEvents, "/getEvents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, clock := heldCache(t)
			getNow(t, g, tt.path, "the first read")
			clock.Advance(6 * time.Second) // past CACHE_FRESH_TTL: served stale, refreshed behind
			hold := g.sim.HoldNext(tt.held)
			defer hold.Release()
			_, h, err := eventIDsAt(g, tt.path)
			if err != nil || h.Get("Warning") == "" {
				t.Fatalf("the stale read: %v, Warning %q; want a stale answer", err, h.Get("Warning"))
			}
			testwait.Recv(t, hold.Arrived(), "the background refresh to reach the upstream")
			id := addEvent(t, g)
			if ids := getNow(t, g, tt.path, "the read after the write"); !slices.Contains(ids, id) {
				t.Errorf("GET %s after the write: %v; want %s among them", tt.path, ids, id)
			}
			hold.Release()
			testwait.Recv(t, hold.Answered(), "the refresh's call")
			if ids := getNow(t, g, tt.path, "a read once the refresh has its answer"); !slices.Contains(ids, id) {
				t.Errorf("GET %s after the refresh: %v; want %s", tt.path, ids, id)
			}
		})
	}
}
