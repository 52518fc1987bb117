package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventms/gateway/internal/eventsim"
)

// The handler benchmarks serve one request at a time through the whole
// gateway (middleware, GraphQL or REST, loaders, upstream client) against a
// simulator with no delay: what they measure is the gateway's own cost.

func benchGateway(b *testing.B) *gateway {
	b.Helper()
	return newGateway(b, eventsim.Config{Users: 1, EventsPerUser: 10}, nil)
}

func BenchmarkGraphQLUserEvents(b *testing.B) {
	g := benchGateway(b)
	body := []byte(`{"query":"query UserEvents($id: ID!) { user(id: $id) { events { id name } } }","variables":{"id":"u1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.app.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

func BenchmarkRESTEventsByUserID(b *testing.B) {
	g := benchGateway(b)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		g.app.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/getEventsByUserId/u1", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		_, _ = io.Copy(io.Discard, rec.Body)
	}
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
					g.app.Handler.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Error(rec.Code)
						return
					}
				}
			})
		})
	}
}
