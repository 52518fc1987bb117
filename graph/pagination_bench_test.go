package graph_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

// The cost of a screen of 20 of a user's 1000 events, as a page and as the
// whole list, over the simulator's default event delay (500 ms per
// lookup) with the entity cache off, so that every iteration reaches the
// upstream. Each reports the upstream lookups per request (lookups/op),
// next to its time (one round trip's) and CPU:
//
//	go test -run '^$' -bench 'UserEvents(Page|Whole)' -benchtime 5x ./graph/

func BenchmarkUserEventsPageOf20Of1000(b *testing.B) {
	benchUserEvents(b, `{"query":"{ user(id: \"u1\") { eventsConnection(first: 20) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } } }"}`)
}

func BenchmarkUserEventsWholeListOf1000(b *testing.B) {
	benchUserEvents(b, `{"query":"{ user(id: \"u1\") { events { id name } } }"}`)
}

func benchUserEvents(b *testing.B, body string) {
	g := graphtest.New(b, eventsim.Config{Users: 1, EventsPerUser: 1000, EventDelay: eventsim.Defaults().EventDelay}, nil)
	b.ReportAllocs()
	defer servicetest.ReportCPU(b)()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(g.Sim.Count(eventsim.RouteGetEventByID))/float64(b.N), "lookups/op")
}
