package main

import (
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

func TestListsRecoverDroppedConnections(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	g.sim.DropNext(3)
	res := g.query(t, `{ users { id } }`, nil)
	if len(res.Errors) > 0 || g.sim.Count(eventsim.RouteGetUsers) != 4 {
		t.Fatalf("errors %v after %d calls; want success on the 4th call", res.Errors, g.sim.Count(eventsim.RouteGetUsers))
	}
	g.sim.DropNext(2)
	var events []eventapi.Event
	if status := g.get(t, "/getEvents", &events); status != 200 || len(events) != 4 {
		t.Fatalf("REST getEvents: %d, %d events", status, len(events))
	}
}
