package graph

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
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/graph/apq"
	"github.com/eventms/gateway/graph/cachecontrol"
	"github.com/eventms/gateway/graph/doccache"
	"github.com/eventms/gateway/graph/ide"
	"github.com/eventms/gateway/graph/limits"
	"github.com/eventms/gateway/graph/tracing"
	"github.com/eventms/gateway/graph/transport"
	"github.com/eventms/gateway/graph/trusted"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/logging"
	"github.com/eventms/gateway/internal/platform/metrics"
	"github.com/eventms/gateway/internal/ratelimit"
	"github.com/eventms/gateway/internal/state/entitycache"
	"github.com/eventms/gateway/internal/state/fleet"
)

// Settings configure the GraphQL front door.
type Settings struct {
	GraphQL  config.GraphQL
	Realtime config.Realtime
	// AllowedOrigins may open WebSockets (the CORS allow-list; "*": any).
	AllowedOrigins []string
	// CSRFPrevention blocks requests a browser could send cross-site
	// without a preflight.
	CSRFPrevention bool
	// RequestTimeout is the deadline of a query or mutation over a
	// WebSocket (over HTTP the HTTP stack gives it).
	RequestTimeout time.Duration
	// TrustedDocuments is what runs besides Deps.Trusted's documents.
	TrustedDocuments trusted.Mode
}

// Deps are what the door stands on; the composition root builds them.
type Deps struct {
	Service *eventsvc.Service
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Fleet shares APQ documents between replicas; nil keeps them in this
	// process.
	Fleet *fleet.Conn
	// AuthenticateToken checks the credentials a WebSocket's
	// connection_init payload carries (identity.Verifier's, under
	// AUTH_MODE); nil: authentication is off.
	AuthenticateToken func(ctx context.Context, raw string) (identity.Identity, error)
	// Budgets are the per-caller limits an operation spends from (its
	// complexity; on a WebSocket, each operation); nil: none.
	Budgets *ratelimit.Budgets
	// Trusted holds the trusted documents; nil with TrustedDocuments off.
	Trusted *trusted.Store
}

// Handler is the GraphQL front door: /graphql over GET, POST, multipart,
// SSE and WebSocket. Close it at shutdown to end its streams.
type Handler struct {
	http.Handler
	streams *transport.Streams
	cfg     Settings
}

// NewHandler builds the door from gqlgen's executor and its own transports
// and extensions, hardened as cfg says: CSRF first (Apollo's order), then
// the transports, which refuse requests that are not well-formed GraphQL
// requests and answer errors as GraphQL over HTTP wants.
func NewHandler(cfg Settings, deps Deps) *Handler {
	es := NewExecutableSchema(NewConfig(deps.Service))
	// One cache for gqlgen and the expansion guard: a document in it was
	// checked and validated already, so a repeated query skips both.
	c := cfg.GraphQL.Caches
	docs := trusted.NewQueryCache(deps.Trusted, doccache.NewParsed(doccache.Limits{MaxBytes: c.QueryBytes,
		MaxEntryBytes: c.QueryMaxDocumentBytes, MaxEntries: c.QueryEntries}))
	persisted := apq.New(apq.Settings{MaxBytes: c.APQBytes, MaxEntries: c.APQEntries, MaxDocumentBytes: c.APQMaxDocumentBytes,
		RedisMaxBytes: c.APQRedisBytes}, deps.Fleet.Client(), prefix(deps.Fleet), deps.Fleet.OnError)
	streams := transport.NewStreams(transport.StreamSettings{Realtime: cfg.Realtime, RequestTimeout: cfg.RequestTimeout,
		Connections: deps.Metrics.WebSocketConnections, Init: connectionInit(deps.AuthenticateToken)})
	listed := trusted.Extension{Store: deps.Trusted, Mode: cfg.TrustedDocuments,
		AllowIntrospection: cfg.GraphQL.Introspection, TokenLimit: cfg.GraphQL.MaxTokens,
		OnOperation: func(ctx context.Context, s trusted.Status) { deps.Metrics.TrustedDocument(string(s), clientName(ctx)) },
		OnUnlisted: func(ctx context.Context, name string) {
			deps.Log.WarnContext(ctx, "operation not in the trusted documents", "operation", name, "client", clientName(ctx))
		},
	}
	build := func(traced bool) *handler.Server {
		return newServer(cfg.GraphQL, es, docs, persisted, listed, streams, cfg.AllowedOrigins, deps, traced)
	}
	h := bySampling(build(true), build(false))
	if cfg.CSRFPrevention {
		h = transport.CSRF(h)
	}
	return &Handler{Handler: varyAccept(h), streams: streams, cfg: cfg}
}

// Register mounts the door on routes: /graphql, under the door's refusals
// and whole-answer rules, and, as the settings allow, the schema's SDL at
// /graphql/schema.graphql, GraphiQL at / and the Playground at /playground.
func (h *Handler) Register(routes *middleware.Routes) {
	routes.Door(Refusals(), Answers(h.cfg.CSRFPrevention)).Handle("/graphql", h)
	if h.cfg.GraphQL.Introspection {
		routes.HandleUncached("GET /graphql/schema.graphql", SDL())
	}
	if h.cfg.GraphQL.IDE {
		const title = "Event Management System"
		routes.HandleUncached("GET /{$}", ide.Page(title, "/graphql"))
		routes.HandleUncached("GET /playground", ide.Playground(title, "/graphql"))
		routes.HandleUncached("GET "+ide.AssetPrefix, ide.Assets())
	}
}

// Close ends every subscription and WebSocket connection ("going away").
func (h *Handler) Close() { h.streams.Close() }

// Wait waits for the executions of answers in parts that their clients
// left (each bounded by its upstream calls' own timeouts).
func (h *Handler) Wait() { h.streams.Wait() }

func prefix(c *fleet.Conn) string {
	if c == nil {
		return ""
	}
	return c.Prefix
}

// bySampling serves a request whose span is recording (sampled) with
// traced, and every other request with untraced, the same server without
// the tracing extension. Unsampled requests are nearly all of them (all of
// them with tracing off), and for those the extension is pure cost: gqlgen
// runs every field of an answer through the field interceptor chain (a
// closure per field when there is an interceptor), and the extension starts
// a span for the operation and for each resolver, which OpenTelemetry's
// no-op and non-sampling tracers still build and put in a context. None of
// those spans could be recorded: the operation span is a child of this
// request's server span, and for every stock sampler a child of a span that
// is not recording is not recorded either (parent-based samplers follow the
// parent; trace-id ratio decides by the trace id, which the child shares;
// always-on would have recorded the parent).
func bySampling(traced, untraced http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if trace.SpanFromContext(r.Context()).IsRecording() {
			traced.ServeHTTP(w, r)
			return
		}
		untraced.ServeHTTP(w, r)
	})
}

// newServer builds one gqlgen server on es, the caches shared (the parsed
// and validated documents, the persisted queries) and ws, with the tracing
// extension if traced.
func newServer(cfg config.GraphQL, es graphql.ExecutableSchema, docs graphql.Cache[*ast.QueryDocument],
	persisted *apq.Store, listed trusted.Extension, streams *transport.Streams, origins []string, deps Deps, traced bool,
) *handler.Server {
	srv := handler.New(es)
	srv.AddTransport(streams.WebSocket(origins))
	srv.AddTransport(gqltransport.Options{})
	srv.AddTransport(transport.HTTP{Streams: streams, MaxBatch: cfg.MaxBatchSize})
	srv.SetQueryCache(docs)
	srv.SetErrorPresenter(NewErrorPresenter(deps.Service, deps.Log))
	srv.SetDisableSuggestion(!cfg.FieldSuggestions)
	srv.SetParserTokenLimit(cfg.MaxTokens)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		deps.Log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return &gqlerror.Error{
			Message:    fmt.Sprintf("internal server error (request id %s)", logging.RequestID(ctx)),
			Extensions: map[string]any{"code": eventsvc.CodeInternal},
		}
	})
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(limits.NoIntrospection{})
	srv.Use(transport.StreamsOnly{})
	srv.Use(&cachecontrol.Extension{})
	// Before APQ: ids become the listed text, and what is refused never
	// reaches APQ's registration.
	srv.Use(listed)
	// Stores a registration only once its operation is dispatched (parsed,
	// validated, within every limit).
	srv.Use(apq.Extension{Store: persisted})
	// After APQ (which fills in the document), before the guard and parsing.
	srv.Use(transport.InlineDefer{})
	srv.AroundOperations(streams.LimitOperations)
	srv.AroundOperations(loadersPerOperation(deps.Service))
	if traced {
		srv.Use(tracing.Tracer{CacheStatus: cacheStatus})
	}
	// After APQ, which fills in a hash-only request's query, and before
	// validation: gqlparser's validator is super-linear in a document's
	// expansion, so the guard bounds it first, in time linear in the text.
	if cfg.MaxFields > 0 {
		srv.Use(&limits.Expansion{MaxFields: cfg.MaxFields, TokenLimit: cfg.MaxTokens, Cache: docs})
	}
	// Shape first: "too deep" says more than the complexity that follows from it.
	srv.Use(limits.Shape{MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases})
	if cfg.MaxComplexity > 0 {
		srv.Use(&limits.Complexity{Limit: cfg.MaxComplexity})
	}
	// After the complexity, which it spends.
	srv.Use(limits.Budget{Budgets: deps.Budgets, CountsAsRequest: transport.CountsAsRequest, OnRefused: deps.Metrics.RateLimited})
	srv.AroundResponses(observe(deps.Metrics))
	return srv
}

// connectionInit authenticates a WebSocket connection by the credentials
// of its connection_init payload (Apollo Client and urql send
// {"Authorization": "Bearer …"}), unless its upgrade request already
// carried valid ones; the connection ends when the token expires. The
// caller's budget is its user's from then on.
func connectionInit(authenticate func(ctx context.Context, raw string) (identity.Identity, error)) func(context.Context, gqltransport.InitPayload) (context.Context, time.Time, error) {
	if authenticate == nil {
		return nil
	}
	return func(ctx context.Context, payload gqltransport.InitPayload) (context.Context, time.Time, error) {
		id := identity.From(ctx)
		if !id.Authenticated() {
			var err error
			if id, err = authenticate(ctx, identity.TokenFromInitPayload(payload)); err != nil {
				return ctx, time.Time{}, err
			}
			ctx = identity.WithIdentity(ctx, id)
		}
		if id.Authenticated() {
			ctx = ratelimit.WithKey(ctx, "user:"+id.UserID)
		}
		return ctx, id.ExpiresAt, nil
	}
}

// loadersPerOperation gives each operation on a WebSocket loaders of its
// own: the HTTP stack gives a request its loaders, and a connection is one
// request for its whole life, so without this its operations would share
// one dataloader cache and read what an earlier operation saw.
func loadersPerOperation(svc *eventsvc.Service) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if transport.OverWebSocket(ctx) {
			ctx = svc.WithLoaders(ctx)
		}
		return next(ctx)
	}
}

// clientName is the client's name as Apollo's client awareness sends it,
// for the trusted documents' metrics and log.
func clientName(ctx context.Context) string {
	if graphql.HasOperationContext(ctx) {
		if n := graphql.GetOperationContext(ctx).Headers.Get("apollographql-client-name"); n != "" {
			return n
		}
	}
	return "unknown"
}

// cacheStatus is what the operation's span says of the entity cache.
func cacheStatus(ctx context.Context) string {
	if s := entitycache.ReportFrom(ctx).Summary(); s.Stale {
		return "stale"
	} else if s.Used {
		return "cached"
	}
	return "none"
}

// observe names the operation in the access log, counts it, and says in
// the extensions of an answer built from stale data how old it is:
// {"cache": {"stale": true, "age": 42}} (age in seconds).
func observe(m *metrics.Metrics) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
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
			resp.Extensions["cache"] = map[string]any{"stale": true, "age": int(sum.Age / time.Second)}
		}
		// A subscription's events are counted by gateway_subscription_events_total.
		if resp != nil && typ != "subscription" {
			m.GraphQLOperation(name, typ, outcome(resp))
		}
		return resp
	}
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
