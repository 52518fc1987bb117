package rest_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

func TestRESTReads(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	var users []map[string]any
	if s := g.get(t, "/getUsers", &users); s != 200 || len(users) != 3 {
		t.Fatalf("getUsers: %d %v", s, users)
	}
	wantUser := map[string]any{"id": "1", "userName": "john_doe", "email": "john@example.com", "events": []any{"event-1", "event-3"}}
	if !reflect.DeepEqual(users[0], wantUser) {
		t.Errorf("getUsers[0] = %v, want %v", users[0], wantUser)
	}
	var events []map[string]any
	if s := g.get(t, "/getEventsByUserId/1", &events); s != 200 || len(events) != 2 {
		t.Fatalf("getEventsByUserId/1: %d %v", s, events)
	}
	wantEvent := map[string]any{"id": "event-3", "name": "Workshop", "userId": "1", "details": "Go programming workshop"}
	if !reflect.DeepEqual(events[1], wantEvent) {
		t.Errorf("event = %v, want %v", events[1], wantEvent)
	}
	if s := g.get(t, "/getEvents", &events); s != 200 || len(events) != 4 {
		t.Errorf("getEvents: %d, %d events", s, len(events))
	}
	var errBody map[string]any
	if s := g.get(t, "/getEventsByUserId/99", &errBody); s != 404 || errBody["error"] != "User not found" {
		t.Errorf("unknown user: %d %v, want 404 User not found", s, errBody)
	}
	g.sim.FailEvent("event-2", 503, -1)
	if s := g.get(t, "/getEventsByUserId/2", &errBody); s != http.StatusBadGateway || errBody["error"] != "Event API unavailable" {
		t.Errorf("failing upstream: %d %v, want 502", s, errBody)
	}
}

func TestRESTSharesTheLoaders(t *testing.T) {
	g := newGateway(t, eventsim.Config{EventDelay: 50 * time.Millisecond}, nil)
	g.sim.PutUser(eventsim.User{ID: "7", Events: []string{"event-1", "event-1", "event-2"}})
	var events []eventapi.Event
	if s := g.get(t, "/getEventsByUserId/7", &events); s != 200 || len(events) != 3 {
		t.Fatalf("%d %v", s, events)
	}
	if n := g.sim.Count(eventsim.RouteGetEventByID); n != 2 {
		t.Errorf("%d lookups for 2 distinct ids, want 2", n)
	}
}
