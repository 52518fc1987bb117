package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"golang.org/x/sync/errgroup"
)

// fastCycle is the simulator with the original failure cycle and no delays.
func fastCycle() eventsim.Config { return eventsim.Config{FailureCycle: true} }

func TestFailureCycleThroughTheBreaker(t *testing.T) {
	clock := servicetest.NewClock()
	g := graphtest.New(t, fastCycle(), func(c *config.Config) { c.Breaker.Jitter = 0 }, graphtest.WithClock(clock.Now))
	input := map[string]any{"name": "Launch", "userId": "3", "details": "rocket"}

	type step struct {
		advance    time.Duration
		typename   string
		state      string
		retryAfter int
		upstream   int // simulator's addEvent count after the step
	}
	ok := func(n int) step { return step{typename: "AddEventSuccess", upstream: n} }
	down := func(adv time.Duration, state string, retry, n int) step {
		return step{advance: adv, typename: "ServiceUnavailable", state: state, retryAfter: retry, upstream: n}
	}
	script := []step{
		ok(1), ok(2), ok(3), ok(4), ok(5),
		down(0, "CLOSED", 1, 6), down(0, "CLOSED", 1, 7),
		down(0, "OPEN", 10, 8),                                                           // the third failure in the window opens the circuit
		down(0, "OPEN", 10, 8), down(3*time.Second, "OPEN", 7, 8), down(0, "OPEN", 7, 8), // rejected: no upstream call
		down(7*time.Second, "OPEN", 20, 9),   // probe fails: 20 s
		down(5*time.Second, "OPEN", 15, 9),   // rejected
		down(15*time.Second, "OPEN", 40, 10), // probe fails: 40 s
		down(40*time.Second, "OPEN", 60, 11), // then the 60 s cap
		down(60*time.Second, "OPEN", 60, 12),
		down(60*time.Second, "OPEN", 60, 13),
		down(60*time.Second, "OPEN", 60, 14),
		down(60*time.Second, "OPEN", 60, 15),                                   // the upstream's cycle resets after call 15
		{advance: 60 * time.Second, typename: "AddEventSuccess", upstream: 16}, // probe succeeds: CLOSED
		ok(17), ok(18),
	}
	for i, st := range script {
		clock.Advance(st.advance)
		got := g.AddEvent(t, input, nil)
		if got.Typename != st.typename || got.CircuitState != st.state || got.RetryAfter != st.retryAfter {
			t.Fatalf("step %d: got %s %s retryAfter=%d, want %s %s retryAfter=%d",
				i+1, got.Typename, got.CircuitState, got.RetryAfter, st.typename, st.state, st.retryAfter)
		}
		if n := g.Sim.Count(eventsim.RouteAddEvent); n != st.upstream {
			t.Fatalf("step %d: simulator saw %d addEvent calls, want %d", i+1, n, st.upstream)
		}
		if got.Typename == "AddEventSuccess" && (got.Event.Name != "Launch" || got.Event.UserID != "3" || got.Event.Details != "rocket") {
			t.Fatalf("step %d: event %+v", i+1, got.Event)
		}
	}
}

func TestConcurrentDuplicateKeysMakeOneCall(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 0}, nil)
	key := "same-click"
	var eg errgroup.Group
	ids := make(chan string, 20)
	for i := 0; i < 20; i++ {
		eg.Go(func() error {
			r, err := g.TryAddEvent(map[string]any{"name": "Once", "userId": "2"}, &key)
			if r.Event != nil {
				ids <- r.Event.ID
			}
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	close(ids)
	var first string
	n := 0
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("duplicates returned different events %s and %s", first, id)
		}
		n++
	}
	if n != 20 || g.Sim.Count(eventsim.RouteAddEvent) != 1 {
		t.Errorf("%d successes, %d upstream calls; want 20 and 1", n, g.Sim.Count(eventsim.RouteAddEvent))
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	long := func(n int) string { return strings.Repeat("é", n) }
	empty, tooLong := "  ", strings.Repeat("k", 256)
	tests := []struct {
		input map[string]any
		key   *string
		field string
		msg   string
	}{
		{map[string]any{"name": "   ", "userId": "1"}, nil, "name", "name: must not be empty"},
		{map[string]any{"name": long(201), "userId": "1"}, nil, "name", "at most 200 characters"},
		{map[string]any{"name": "ok", "userId": "1", "details": long(2001)}, nil, "details", "at most 2000 characters"},
		{map[string]any{"name": "ok", "userId": "404"}, nil, "userId", `no user with id "404"`},
		{map[string]any{"name": "ok", "userId": " "}, nil, "userId", "must not be empty"},
		{map[string]any{"name": "ok", "userId": "1"}, &empty, "idempotencyKey", "must not be empty"},
		{map[string]any{"name": "ok", "userId": "1"}, &tooLong, "idempotencyKey", "at most 255"},
	}
	for _, tt := range tests {
		r := g.AddEvent(t, tt.input, tt.key)
		if r.Typename != "InvalidInput" || r.Field != tt.field || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%v: %+v, want InvalidInput{%s} containing %q", tt.input, r, tt.field, tt.msg)
		}
	}
	// Exactly 200 and 2000 characters are fine.
	if r := g.AddEvent(t, map[string]any{"name": long(200), "userId": "1", "details": long(2000)}, nil); r.Typename != "AddEventSuccess" {
		t.Errorf("limits themselves rejected: %+v", r)
	}
	if n := g.Sim.Count(eventsim.RouteAddEvent); n != 1 {
		t.Errorf("%d upstream calls, want only the valid one", n)
	}
	// GraphQL's own type checks: a missing required field is a validation error.
	res := g.Query(t, `mutation { addEvent(input: {userId: "1"}) { __typename } }`, nil)
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, "name") {
		t.Errorf("missing name: %+v", res.Errors)
	}
}
