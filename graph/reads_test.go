package graph_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

type eventIDs struct {
	User *struct {
		Events []struct{ ID string } `json:"events"`
	} `json:"user"`
}

func TestUserWith1000EventsFetchesAllAtOnceByDefault(t *testing.T) {
	// With the default settings the adaptive limit starts at its ceiling
	// (1024): a healthy upstream gets a user's 1000 lookups in one wave.
	// Opening 1000 connections under -race on a busy machine can take
	// longer than one attempt's 2 s: the first lookups would time out and
	// be retried while the last are still connecting. The attempt bound is
	// not what this test is about.
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 1000},
		func(c *config.Config) { c.Upstream.Client.Timeout = 30 * time.Second })
	g.Sim.HoldEvents(1000) // no lookup answers until all 1000 are in flight together
	res := g.Query(t, `{ user(id: "u1") { events { id } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	var got eventIDs
	servicetest.MustUnmarshal(t, res.Data, &got)
	if len(got.User.Events) != 1000 {
		t.Fatalf("%d events, want 1000", len(got.User.Events))
	}
	for i, e := range got.User.Events {
		if want := fmt.Sprintf("u1-e%d", i+1); e.ID != want {
			t.Fatalf("event %d is %q, want %q: order lost", i, e.ID, want)
		}
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 1000 {
		t.Errorf("%d getEventById calls, want 1000", n)
	}
	if p := g.Sim.PeakInFlight(eventsim.RouteGetEventByID); p != 1000 {
		t.Errorf("peak in flight %d, want 1000: lookups were not all concurrent", p)
	}
	if n := g.Sim.Count(eventsim.RouteGetUserByID); n != 1 {
		t.Errorf("%d getUserById calls, want 1", n)
	}
}

func TestConcurrencyBoundIsHonoured(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 50 * time.Millisecond, Users: 1, EventsPerUser: 50},
		func(c *config.Config) { c.Upstream.Client.MaxConcurrency = 10 })
	res := g.Query(t, `{ user(id: "u1") { events { id } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 50 {
		t.Errorf("%d calls, want 50", n)
	}
	if p := g.Sim.PeakInFlight(eventsim.RouteGetEventByID); p != 10 {
		t.Errorf("peak in flight %d, want exactly the bound 10", p)
	}
}

func TestUsersEventsCostOneListAndOneLookupPerDistinctEvent(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 100 * time.Millisecond}, nil)
	// Users 4 and 5 share events with the seed users and with each other.
	g.Sim.PutUser(eventsim.User{ID: "4", UserName: "dup", Events: []string{"event-1", "event-2", "event-4"}})
	g.Sim.PutUser(eventsim.User{ID: "5", UserName: "dup2", Events: []string{"event-1", "event-1", "event-3"}})
	res := g.Query(t, `{ users { id events { id user { id } } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	var got struct {
		Users []struct {
			ID     string
			Events []struct {
				ID   string
				User struct{ ID string }
			}
		}
	}
	servicetest.MustUnmarshal(t, res.Data, &got)
	if len(got.Users) != 5 || len(got.Users[4].Events) != 3 || got.Users[4].Events[1].ID != "event-1" {
		t.Fatalf("unexpected users: %+v", got.Users)
	}
	for _, u := range got.Users[:3] {
		for _, e := range u.Events {
			if e.User.ID != u.ID {
				t.Errorf("event %s of user %s resolves user %s", e.ID, u.ID, e.User.ID)
			}
		}
	}
	counts := map[string]int{
		eventsim.RouteGetUsers:     1,
		eventsim.RouteGetEventByID: 4, // event-1..4, each once
		// Every owner was primed by getUsers.
		eventsim.RouteGetUserByID: 0,
	}
	for route, want := range counts {
		if n := g.Sim.Count(route); n != want {
			t.Errorf("%s: %d calls, want %d", route, n, want)
		}
	}
	if p := g.Sim.PeakInFlight(eventsim.RouteGetEventByID); p != 4 {
		t.Errorf("peak in flight %d, want 4: per-user round trips ran in sequence", p)
	}
}

func TestFailedEventFetchIsAPartialResult(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	g.Sim.FailEvent("event-2", http.StatusInternalServerError, -1)
	res := g.Query(t, `{ users { id events { id } } }`, nil)
	if len(res.Errors) != 1 {
		t.Fatalf("errors %+v, want exactly one", res.Errors)
	}
	e := res.Errors[0]
	if !reflect.DeepEqual(e.Path, []any{"users", float64(1), "events"}) {
		t.Errorf("path %v, want [users 1 events]", e.Path)
	}
	if e.Extensions["code"] != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("code %v, want UPSTREAM_UNAVAILABLE", e.Extensions["code"])
	}
	var got struct {
		Users []struct {
			ID     string
			Events *[]struct{ ID string }
		}
	}
	servicetest.MustUnmarshal(t, res.Data, &got)
	if got.Users[1].Events != nil {
		t.Errorf("user 2's events %v, want null", *got.Users[1].Events)
	}
	if got.Users[0].Events == nil || len(*got.Users[0].Events) != 2 || got.Users[2].Events == nil {
		t.Errorf("other users did not resolve: %+v", got.Users)
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 3+4 {
		t.Errorf("%d getEventById calls, want 3 + 4 attempts for the failing one", n)
	}
}

func TestTimeoutHasItsCode(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 300 * time.Millisecond}, func(c *config.Config) {
		c.Upstream.Client.Timeout = 20 * time.Millisecond
		c.Upstream.Client.Retry.MaxRetries = 1
	})
	res := g.Query(t, `{ user(id: "2") { id events { id } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "UPSTREAM_TIMEOUT" {
		t.Fatalf("errors %+v, want one UPSTREAM_TIMEOUT", res.Errors)
	}
	var got struct{ User struct{ ID string } }
	servicetest.MustUnmarshal(t, res.Data, &got)
	if got.User.ID != "2" {
		t.Errorf("user did not resolve beside the failing field: %s", res.Data)
	}
}

func TestUnknownIDs(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	g.Sim.RemoveEvent("event-3")
	res := g.Query(t, `{ user(id: "1") { events { id } } nobody: user(id: "404") { id } nothing: event(id: "nope") { id } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("errors %+v, want none", res.Errors)
	}
	var got struct {
		User struct {
			Events []struct{ ID string }
		}
		Nobody, Nothing *struct{ ID string }
	}
	servicetest.MustUnmarshal(t, res.Data, &got)
	if len(got.User.Events) != 1 || got.User.Events[0].ID != "event-1" {
		t.Errorf("user 1 events %+v, want just event-1 (event-3 is gone)", got.User.Events)
	}
	if got.Nobody != nil || got.Nothing != nil {
		t.Errorf("unknown ids resolved: %+v %+v", got.Nobody, got.Nothing)
	}
}

func TestSameIDInTwoFieldsIsFetchedOnce(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 20 * time.Millisecond}, nil)
	res := g.Query(t, `{ a: user(id: "1") { events { id } } b: user(id: "1") { events { name } } e: event(id: "event-3") { id } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if n := g.Sim.Count(eventsim.RouteGetUserByID); n != 1 {
		t.Errorf("%d getUserById calls, want 1", n)
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 2 {
		t.Errorf("%d getEventById calls for event-1 and event-3, want 2", n)
	}
}
