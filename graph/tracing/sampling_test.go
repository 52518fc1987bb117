package tracing_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// namingSampler samples nothing and remembers the name of every span that
// was started: OpenTelemetry's SDK asks the sampler about each span, even
// one it will not record.
type namingSampler struct {
	mu    sync.Mutex
	names []string
}

func (s *namingSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	s.mu.Lock()
	s.names = append(s.names, p.Name)
	s.mu.Unlock()
	return sdktrace.NeverSample().ShouldSample(p)
}

func (*namingSampler) Description() string { return "namingSampler" }

func (s *namingSampler) started(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// An unsampled request does not pay for GraphQL spans: it runs on the
// server without the tracing extension, so no operation or resolver span is
// even started (bySampling).
func TestUnsampledRequestStartsNoGraphQLSpans(t *testing.T) {
	sampler := &namingSampler{}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 3}, nil)
	res := g.Query(t, `query Screen { user(id: "u1") { events { id name } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if got := sampler.started("POST /graphql"); len(got) != 1 {
		t.Fatalf("server spans started %v; want one (the sampler must see the request)", got)
	}
	if got := sampler.started("graphql."); len(got) > 0 {
		t.Errorf("an unsampled request started GraphQL spans %v; want none", got)
	}
	if ended := rec.Ended(); len(ended) > 0 {
		t.Errorf("%d spans recorded; the sampler records none", len(ended))
	}
}

// A sampled request keeps every GraphQL span: the operation and one per
// resolver that calls out.
func TestSampledRequestTracesOperationAndResolvers(t *testing.T) {
	rec := recordSpans(t)
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 3}, nil)
	if res := g.Query(t, `query Screen { user(id: "u1") { events { id name } } }`, nil); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	spans := rec.Ended()
	for _, name := range []string{"graphql.query Screen", "graphql.resolve Query.user", "graphql.resolve User.events"} {
		if n := len(spansNamed(spans, name)); n != 1 {
			t.Errorf("%d spans %q; want 1", n, name)
		}
	}
}
