package rest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
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
	defer servicetest.ReportCPU(b)()
	for b.Loop() {
		if !serveRESTEventsByUserID(b, g.app.Handler) {
			return
		}
	}
}

// The Parallel variants serve the same requests from 32 goroutines
// (2 cores × 16), the c=32 case; run them beside the serial ones
// and compare in the same run.

func BenchmarkRESTEventsByUserIDParallel(b *testing.B) { serveParallel(b, serveRESTEventsByUserID) }

// serveParallel is servicetest.ServeParallel on a bench gateway.
func serveParallel(b *testing.B, serve func(*testing.B, http.Handler) bool) {
	g := benchGateway(b)
	servicetest.ServeParallel(b, g.app.Handler, g.sim, serve)
}
