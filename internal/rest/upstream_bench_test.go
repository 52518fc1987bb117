package rest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
)

// BenchmarkRESTDistinctUsersParallel asks for a different user on every
// request (10 events each, no upstream delay, entity cache off), 32 at a
// time: nothing can be shared between requests, so what it measures is the
// cost of the 11 upstream calls each request makes, the simulator's side
// included (it runs in the same process).
func BenchmarkRESTDistinctUsersParallel(b *testing.B) {
	const users = 20000
	g := newGateway(b, eventsim.Config{Users: users, EventsPerUser: 10}, nil)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()       // the 200 000 generated events are not the request's cost
	b.SetParallelism(16) // × GOMAXPROCS (2 here): 32 requests in flight
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1)%users + 1
			rec := httptest.NewRecorder()
			g.app.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/getEventsByUserId/u%d", id), nil))
			if rec.Code != http.StatusOK {
				b.Error(rec.Code, rec.Body.String())
				return
			}
			_, _ = io.Copy(io.Discard, rec.Body)
		}
	})
	b.ReportMetric(float64(g.sim.Count(eventsim.RouteGetEventByID)+g.sim.Count(eventsim.RouteGetUserByID))/float64(b.N), "upstream-calls/op")
}
