// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables only (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER…, read
// by the SDK and the contrib autoexport package). With none of them set,
// tracing is off and costs no more than OpenTelemetry's no-op tracer.
// Propagation is W3C trace context and baggage, also when off, so a
// client's traceparent still reaches the upstream.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of every span the gateway makes.
const Name = "github.com/eventms/gateway"

// Tracer is the gateway's tracer, from the global provider Setup installs.
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Child starts a span under ctx's span when that one is recorded, and
// otherwise returns ctx unchanged with a span that does nothing. Under the
// parent-based sampling the gateway uses, a child of an unrecorded span is
// never recorded anyway; skipping it saves the allocations of a span per
// upstream call and loader batch when tracing is off or not sampled. Set
// attributes on the returned span only if it IsRecording.
func Child(ctx context.Context, name string) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return Tracer().Start(ctx, name)
}

// Enabled reports whether the environment asks for traces to be exported.
func Enabled(lookup func(string) (string, bool)) bool {
	if v, ok := lookup("OTEL_TRACES_EXPORTER"); ok && v != "" {
		return v != "none"
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v, ok := lookup(k); ok && v != "" {
			return true
		}
	}
	return false
}

// Setup installs the global propagator and, when the environment enables
// tracing, a tracer provider exporting to where it says (parent-based
// sampling unless OTEL_TRACES_SAMPLER says otherwise). shutdown flushes and
// stops the exporter; call it when the process ends.
func Setup(ctx context.Context, version string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !Enabled(os.LookupEnv) {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("trace exporter from OTEL_* variables: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("event-gateway"), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithProcessRuntimeName(), resource.WithHost())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
