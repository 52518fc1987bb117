package tracing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// recordSpans installs an in-memory span recorder as the global tracer
// provider for the test.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	rec := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })
	return rec
}

func spansNamed(spans []sdktrace.ReadOnlySpan, prefix string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if strings.HasPrefix(s.Name(), prefix) {
			out = append(out, s)
		}
	}
	return out
}

// The span tree of a user-with-events query: the server span, the
// operation, one loader batch of the user's events, one upstream call per
// event with its HTTP attempt under it, and a retry as an event.
func TestTraceOfAUserWithEvents(t *testing.T) {
	rec := recordSpans(t)
	// A batch window, so that the five events stay in one batch even when
	// the test shares busy cores (with none, a batch can close between two
	// keys: see loader.LoadAll).
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 5}, func(c *config.Config) {
		c.Upstream.LoaderBatchWait = 100 * time.Millisecond
	})
	g.Sim.FailEvent("u1-e3", 503, 1) // one retry
	if res := g.Query(t, `query Screen { user(id: "u1") { events { id } } }`, nil); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	spans := rec.Ended()
	server := spansNamed(spans, "POST /graphql")
	op := spansNamed(spans, "graphql.query Screen")
	batches := spansNamed(spans, "loader.batch event")
	calls := spansNamed(spans, "eventapi.getEventById")
	attempts := spansNamed(spans, "GET /getEventById/")
	if len(server) != 1 || len(op) != 1 || len(batches) != 1 || len(calls) != 5 || len(attempts) != 6 {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name())
		}
		t.Fatalf("spans %v; want 1 server, 1 operation, 1 event batch, 5 upstream calls, 6 attempts", names)
	}
	trace := server[0].SpanContext().TraceID()
	for _, s := range spans {
		if s.SpanContext().TraceID() != trace {
			t.Errorf("span %s is in another trace", s.Name())
		}
	}
	if op[0].Parent().SpanID() != server[0].SpanContext().SpanID() {
		t.Error("the operation is not under the server span")
	}
	for _, a := range batches[0].Attributes() {
		if a.Key == "loader.batch_size" && a.Value.AsInt64() != 5 {
			t.Errorf("batch size %d; want 5", a.Value.AsInt64())
		}
	}
	retries := 0
	for _, c := range calls {
		if c.Parent().SpanID() != batches[0].SpanContext().SpanID() {
			t.Errorf("upstream call %s is not under the batch", c.Name())
		}
		for _, e := range c.Events() {
			if e.Name == "retry" {
				retries++
			}
		}
	}
	if retries != 1 {
		t.Errorf("%d retry events; want 1", retries)
	}
	for _, a := range attempts {
		if parent := a.Parent().SpanID(); !hasSpan(calls, parent) {
			t.Errorf("attempt %s is not under an upstream call", a.Name())
		}
	}
}

func TestTraceOfAddEventCarriesTheBreaker(t *testing.T) {
	rec := recordSpans(t)
	g := graphtest.New(t, eventsim.Config{}, func(c *config.Config) {})
	key := "trace-key"
	g.AddEvent(t, map[string]any{"name": "Traced", "userId": "1"}, &key)
	g.AddEvent(t, map[string]any{"name": "Traced", "userId": "1"}, &key)
	var states, replays []string
	for _, s := range rec.Ended() {
		for _, a := range s.Attributes() {
			switch a.Key {
			case "breaker.state":
				states = append(states, a.Value.AsString())
			case "idempotency.replayed":
				replays = append(replays, a.Value.Emit())
			}
		}
	}
	if len(states) != 1 || states[0] != "CLOSED" || strings.Join(replays, ",") != "false,true" {
		t.Errorf("breaker states %v, replays %v; want one CLOSED decision and false,true", states, replays)
	}
}

func hasSpan(spans []sdktrace.ReadOnlySpan, id interface{ String() string }) bool {
	for _, s := range spans {
		if s.SpanContext().SpanID().String() == id.String() {
			return true
		}
	}
	return false
}
