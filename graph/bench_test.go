package graph_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func benchGateway(b *testing.B) *graphtest.Gateway {
	b.Helper()
	return graphtest.New(b, eventsim.Config{Users: 1, EventsPerUser: 10}, nil)
}

// benchUserEventsQuery asks GraphQL for what /getEventsByUserId/u1 answers.
var benchUserEventsQuery = []byte(`{"query":"query UserEvents($id: ID!) { user(id: $id) { events { id name } } }","variables":{"id":"u1"}}`)

func serveGraphQLUserEvents(b *testing.B, h http.Handler) bool {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(benchUserEventsQuery))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Error(rec.Code, rec.Body.String())
		return false
	}
	return true
}

func BenchmarkGraphQLUserEvents(b *testing.B) {
	g := benchGateway(b)
	b.ReportAllocs()
	defer servicetest.ReportCPU(b)()
	for b.Loop() {
		if !serveGraphQLUserEvents(b, g.Handler) {
			return
		}
	}
}

// The Parallel variants serve the same requests from 32 goroutines
// (2 cores × 16), the c=32 case; run them beside the serial ones
// and compare in the same run.

func BenchmarkGraphQLUserEventsParallel(b *testing.B) { serveParallel(b, serveGraphQLUserEvents) }

// serveParallel is servicetest.ServeParallel on a bench gateway.
func serveParallel(b *testing.B, serve func(*testing.B, http.Handler) bool) {
	g := benchGateway(b)
	servicetest.ServeParallel(b, g.Handler, g.Sim, serve)
}

// BenchmarkTracingOverhead serves the same GraphQL request from 32
// goroutines with tracing off (OpenTelemetry's no-op tracer) and on
// (always sampled, every span batched to an in-memory exporter), side by
// side in one run: the ratio of the two is the cost of tracing.
func BenchmarkTracingOverhead(b *testing.B) {
	body := []byte(`{"query":"query UserEvents($id: ID!) { user(id: $id) { events { id name } } }","variables":{"id":"u1"}}`)
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			if on {
				exp := tracetest.NewInMemoryExporter()
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
				prev := otel.GetTracerProvider()
				otel.SetTracerProvider(tp)
				b.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })
				// The in-memory sink keeps every span: empty it as a collector would.
				stop := make(chan struct{})
				b.Cleanup(func() { close(stop) })
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
							exp.Reset()
						}
					}
				}()
			}
			g := benchGateway(b)
			b.ReportAllocs()
			b.SetParallelism(16) // 2 cores × 16 = 32 goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					g.Handler.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Error(rec.Code)
						return
					}
				}
			})
		})
	}
}
