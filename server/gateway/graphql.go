package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/internal/apq"
	"github.com/eventms/gateway/internal/cachecontrol"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/entitycache"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/gqlhttp"
	"github.com/eventms/gateway/internal/gqllimit"
	"github.com/eventms/gateway/internal/gqltrace"
	"github.com/eventms/gateway/internal/logging"
	"github.com/eventms/gateway/internal/metrics"
	"github.com/eventms/gateway/internal/middleware"
)

// newGraphQL builds the GraphQL endpoint from gqlgen's own transports and
// extensions, hardened as cfg says: CSRF first (Apollo's order), then
// requests that are not well-formed GraphQL requests are refused
// (gqlhttp.CheckRequest), and error answers follow GraphQL over HTTP (gqlhttp.NormalizeErrors).
func newGraphQL(cfg config.Config, svc *eventsvc.Service, fl *fleet, st *streams, log *slog.Logger, m *metrics.Metrics) http.Handler {
	es := graph.NewExecutableSchema(graph.NewConfig(svc))
	// One cache for gqlgen and the expansion guard: a document in it was
	// checked and validated already, so a repeated query skips both.
	docs := lru.New[*ast.QueryDocument](cfg.GraphQL.QueryCacheSize)
	persisted := apq.New(cfg.GraphQL.APQCacheSize, fl.client(), fl.prefix, 24*time.Hour, fl.onError)
	ws := st.websocket(cfg.HTTP.CORSAllowedOrigins)
	build := func(traced bool) *handler.Server {
		return newGraphQLServer(cfg, es, docs, persisted, ws, svc, log, m, traced)
	}
	h := gqlhttp.CheckRequest(gqlhttp.NormalizeErrors(st.eventStream(bySampling(build(true), build(false)))))
	if cfg.HTTP.CSRFPrevention {
		h = middleware.GraphQLCSRF(h)
	}
	return varyAccept(h)
}

// bySampling serves a request whose span is recording (sampled) with
// traced, and every other request with untraced, the same server without
// the tracing extension. Unsampled requests are nearly all of them (all of
// them with tracing off), and for those the extension is pure cost: gqlgen
// runs every field of an answer through the field interceptor chain (a
// closure per field when there is an interceptor), and gqltrace starts a
// span for the operation and for each resolver, which OpenTelemetry's no-op
// and non-sampling tracers still build and put in a context. None of those
// spans could be recorded: the operation span is a child of this request's
// server span (otelhttp, outermost in New), and for every stock sampler a
// child of a span that is not recording is not recorded either (parent-based
// samplers follow the parent; trace-id ratio decides by the trace id, which
// the child shares; always-on would have recorded the parent).
func bySampling(traced, untraced http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if trace.SpanFromContext(r.Context()).IsRecording() {
			traced.ServeHTTP(w, r)
			return
		}
		untraced.ServeHTTP(w, r)
	})
}

// newGraphQLServer builds one gqlgen server on es, the caches shared (the
// parsed and validated documents, the persisted queries) and ws, with the
// tracing extension if traced.
func newGraphQLServer(cfg config.Config, es graphql.ExecutableSchema, docs *lru.LRU[*ast.QueryDocument],
	persisted *apq.Cache, ws transport.Websocket, svc *eventsvc.Service, log *slog.Logger, m *metrics.Metrics, traced bool,
) *handler.Server {
	srv := handler.New(es)
	srv.AddTransport(ws)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	// Incremental delivery (@defer) for clients that accept it, before
	// plain POST: multipart/mixed (Apollo Client, urql) and SSE (graphql-sse).
	srv.AddTransport(transport.MultipartMixed{})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(docs)
	srv.SetErrorPresenter(graph.NewErrorPresenter(svc, log))
	srv.SetDisableSuggestion(!cfg.GraphQL.FieldSuggestions)
	srv.SetParserTokenLimit(cfg.GraphQL.MaxTokens)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return &gqlerror.Error{
			Message:    fmt.Sprintf("internal server error (request id %s)", logging.RequestID(ctx)),
			Extensions: map[string]any{"code": eventsvc.CodeInternal},
		}
	})
	if cfg.GraphQL.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(gqlhttp.NoIntrospection{})
	srv.Use(gqlhttp.StreamsOnly{})
	srv.Use(&cachecontrol.Extension{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: persisted})
	// After APQ (which fills in the document), before the guard and parsing.
	srv.Use(gqlhttp.InlineDefer{})
	srv.AroundOperations(limitSubscriptions)
	if traced {
		srv.Use(gqltrace.Tracer{CacheStatus: func(ctx context.Context) string {
			if s := entitycache.ReportFrom(ctx).Summary(); s.Stale {
				return "stale"
			} else if s.Used {
				return "cached"
			}
			return "none"
		}})
	}
	// After APQ, which fills in a hash-only request's query, and before
	// validation: gqlparser's validator is super-linear in a document's
	// expansion, so the guard bounds it first, in time linear in the text.
	if cfg.GraphQL.MaxFields > 0 {
		srv.Use(&gqllimit.Expansion{MaxFields: cfg.GraphQL.MaxFields, TokenLimit: cfg.GraphQL.MaxTokens, Cache: docs})
	}
	// Shape first: "too deep" says more than the complexity that follows from it.
	srv.Use(gqllimit.Shape{MaxDepth: cfg.GraphQL.MaxDepth, MaxAliases: cfg.GraphQL.MaxAliases})
	if cfg.GraphQL.MaxComplexity > 0 {
		srv.Use(&gqllimit.Complexity{Limit: cfg.GraphQL.MaxComplexity})
	}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if !graphql.HasOperationContext(ctx) {
			return resp
		}
		oc := graphql.GetOperationContext(ctx)
		name, typ := oc.OperationName, ""
		if oc.Operation != nil {
			typ = string(oc.Operation.Operation)
			if name == "" {
				name = oc.Operation.Name
			}
		}
		middleware.InfoFrom(ctx).SetOperation(name)
		if resp != nil && resp.HasNext != nil && *resp.HasNext {
			return resp // an incremental answer counts once, with its last part
		}
		if sum := entitycache.ReportFrom(ctx).Summary(); resp != nil && sum.Stale {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["cache"] = staleExtension(sum)
		}
		// A subscription's events are counted by gateway_subscription_events_total.
		if resp != nil && typ != "subscription" {
			m.GraphQLOperation(name, typ, outcome(resp))
		}
		return resp
	})
	return srv
}

// varyAccept tells caches that the answer depends on Accept (its media
// type, and the status of request errors, do).
func varyAccept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		next.ServeHTTP(w, r)
	})
}

// outcome classifies a response: ok, partial (data and errors) or error.
func outcome(resp *graphql.Response) string {
	switch {
	case len(resp.Errors) == 0:
		return "ok"
	case len(resp.Data) > 0 && string(resp.Data) != "null":
		return "partial"
	}
	return "error"
}
