package rest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
)

func benchGateway(b *testing.B) *gateway {
	b.Helper()
	return newGateway(b, eventsim.Config{Users: 1, EventsPerUser: 10}, nil)
}

func serveRESTEventsByUserID(b *testing.B, h http.Handler) bool {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/getEventsByUserId/u1", nil))
	if rec.Code != 200 {
		b.Error(rec.Code)
		return false
	}
	_, _ = io.Copy(io.Discard, rec.Body)
	return true
}

func BenchmarkRESTEventsByUserID(b *testing.B) {
	g := benchGateway(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if !serveRESTEventsByUserID(b, g.app.Handler) {
			return
		}
	}
}

// reportCPU starts counting the process's CPU time; the function it returns
// reports it per operation as cpu-ns/op. On a shared machine ns/op moves
// with everyone else's load, while the CPU a request costs (the in-process
// simulator's share included) does not, or much less.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if used := processCPU() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// The Parallel variants serve the same requests from 32 goroutines
// (2 cores × 16), the c=32 case; run them beside the serial ones
// and compare in the same run.

func BenchmarkRESTEventsByUserIDParallel(b *testing.B) { serveParallel(b, serveRESTEventsByUserID) }

// serveParallel serves one kind of request from 32 goroutines and reports
// the process's CPU and the upstream calls per request.
func serveParallel(b *testing.B, serve func(*testing.B, http.Handler) bool) {
	g := benchGateway(b)
	b.ReportAllocs()
	b.SetParallelism(16)
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !serve(b, g.app.Handler) {
				return
			}
		}
	})
	reportUpstreamCalls(b, g)
}

// reportUpstreamCalls reports the simulator's requests per operation: under
// load concurrent requests share upstream calls (singleflight), so the two
// front doors compare fairly only when they share about equally.
func reportUpstreamCalls(b *testing.B, g *gateway) {
	calls := 0
	for _, r := range []string{eventsim.RouteGetUserByID, eventsim.RouteGetEventByID} {
		calls += g.sim.Count(r)
	}
	b.ReportMetric(float64(calls)/float64(b.N), "upstream/op")
}
