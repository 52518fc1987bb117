package servicetest

import (
	"net/http"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
)

// ReportCPU starts counting the process's CPU time; the function it returns
// reports it per operation as cpu-ns/op. On a shared machine ns/op moves
// with everyone else's load, while the CPU a request costs (the in-process
// simulator's share included) does not, or much less.
func ReportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if used := processCPU() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// ServeParallel serves one kind of request to h from 32 goroutines (2
// cores × 16, the bench's c=32 case) and reports the process's CPU and
// sim's lookups per request. serve answers false to stop on a failure.
func ServeParallel(b *testing.B, h http.Handler, sim *eventsim.Sim, serve func(*testing.B, http.Handler) bool) {
	b.ReportAllocs()
	b.SetParallelism(16)
	defer ReportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !serve(b, h) {
				return
			}
		}
	})
	ReportUpstreamCalls(b, sim)
}

// ReportUpstreamCalls reports sim's lookups (users and events by id) per
// operation: under load concurrent requests share upstream calls, so two
// front doors compare fairly only when they share about equally.
func ReportUpstreamCalls(b *testing.B, sim *eventsim.Sim) {
	calls := 0
	for _, r := range []string{eventsim.RouteGetUserByID, eventsim.RouteGetEventByID} {
		calls += sim.Count(r)
	}
	b.ReportMetric(float64(calls)/float64(b.N), "upstream/op")
}
