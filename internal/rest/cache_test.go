package rest_test

import (
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

func TestUnknownIDsAreRememberedBriefly(t *testing.T) {
	g, clock, _ := cachedGateway(t, nil)
	for i := 0; i < 10; i++ {
		var body map[string]any
		if s := g.get(t, "/getEventsByUserId/nobody", &body); s != 404 {
			t.Fatalf("unknown user: %d", s)
		}
	}
	if n := g.sim.Count(eventsim.RouteGetUserByID); n != 1 {
		t.Errorf("%d lookups for 10 reads of an unknown user; want 1", n)
	}
	clock.Advance(3 * time.Second)
	var body map[string]any
	g.get(t, "/getEventsByUserId/nobody", &body)
	if n := g.sim.Count(eventsim.RouteGetUserByID); n != 2 {
		t.Errorf("%d lookups after the negative TTL; want 2", n)
	}
}
