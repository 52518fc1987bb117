// Package tracing is a gqlgen extension that traces GraphQL operations:
// one span per operation (name, type, complexity, and whether it was built
// from stale cache entries), a span per resolver that calls out (fields
// with a resolver of their own; plain struct fields cost nothing), and,
// for answers in parts (@defer, subscription events), a span per later
// part, linked to the operation's.
package tracing

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	platformtracing "github.com/eventms/gateway/internal/platform/tracing"
)

// Tracer is the extension. CacheStatus, if set, names the cache status of
// an operation's answer (e.g. "stale"), read when the answer is complete.
type Tracer struct {
	CacheStatus func(ctx context.Context) string
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.FieldInterceptor
} = Tracer{}

// ExtensionName implements graphql.HandlerExtension.
func (Tracer) ExtensionName() string { return "OpenTelemetry" }

// Validate implements graphql.HandlerExtension.
func (Tracer) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor.
func (t Tracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	typ, name := "", oc.OperationName
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	spanName := "graphql." + typ
	if name != "" {
		spanName += " " + name
	}
	ctx, span := platformtracing.Tracer().Start(ctx, spanName, trace.WithAttributes(
		attribute.String("graphql.operation.name", name), attribute.String("graphql.operation.type", typ)))
	if span.IsRecording() {
		if stats := extension.GetComplexityStats(ctx); stats != nil {
			span.SetAttributes(attribute.Int("graphql.complexity", stats.Complexity))
		}
	}
	responses := next(ctx)
	if typ == "subscription" {
		span.End() // the subscription is set up; each event is a part
	}
	parts := 0
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		parts++
		final := resp == nil || resp.HasNext == nil || !*resp.HasNext
		if (parts > 1 || typ == "subscription") && resp != nil && span.IsRecording() {
			// A later part (deferred fragment, subscription event) has its own span.
			_, part := platformtracing.Tracer().Start(ctx, spanName+" part",
				trace.WithLinks(trace.Link{SpanContext: span.SpanContext()}), trace.WithAttributes(attribute.Int("graphql.part", parts)))
			errorStatus(part, resp)
			part.End()
		}
		if final && typ != "subscription" {
			if resp != nil {
				errorStatus(span, resp)
				if t.CacheStatus != nil {
					span.SetAttributes(attribute.String("cache.status", t.CacheStatus(ctx)))
				}
			}
			span.End()
		}
		return resp
	}
}

// InterceptField implements graphql.FieldInterceptor: a span for each
// resolver that calls out.
func (Tracer) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := platformtracing.Tracer().Start(ctx, "graphql.resolve "+fc.Object+"."+fc.Field.Name,
		trace.WithAttributes(attribute.String("graphql.field.path", fc.Path().String())))
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	return res, err
}

func errorStatus(span trace.Span, resp *graphql.Response) {
	if len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, resp.Errors[0].Message)
		span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
	}
}
