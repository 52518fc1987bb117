// Package gateway is the composition root: it builds every part of the
// gateway from its configuration (upstream client, breaker, idempotency,
// service layer, GraphQL and REST front doors, health, metrics) and stacks
// the HTTP layers every request passes through. It is the only package that
// knows them all; nothing under internal/ imports it or graph/.
package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/rs/cors"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/entitycache"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventfeed"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/health"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/ide"
	"github.com/eventms/gateway/internal/idempotency"
	"github.com/eventms/gateway/internal/loader"
	"github.com/eventms/gateway/internal/metrics"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/rest"
)

// Gateway is a wired gateway.
type Gateway struct {
	// Handler serves every route.
	Handler http.Handler
	// Health answers the probes; Drain it when shutting down.
	Health  *health.Checker
	api     *eventapi.Client
	cache   *entitycache.Cache
	fleet   *fleet
	streams *streams
	feed    *eventfeed.Feed
}

// feedSubscribers is the number of live subscriptions (tests wait on it).
func (g *Gateway) feedSubscribers() int { return g.feed.Subscribers() }

// Option adjusts how New wires the gateway.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the time-based parts (circuit breaker, idempotency TTL,
// readiness cache) read now instead of the wall clock; tests use it to be
// exact and fast.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New wires a gateway calling the Event API at baseURL.
func New(cfg config.Config, baseURL string, log *slog.Logger, opts ...Option) (*Gateway, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	m := metrics.New()
	apiCfg := cfg.Upstream.Client
	apiCfg.BaseURL = baseURL
	apiCfg.Hooks = eventapi.Hooks{Call: m.UpstreamCall, Retry: m.UpstreamRetry, Shared: m.UpstreamShared}
	api, err := eventapi.New(apiCfg)
	if err != nil {
		return nil, fmt.Errorf("upstream client: %w", err)
	}
	fl := newFleet(cfg.Redis, m, log)
	brCfg := cfg.Breaker
	brCfg.Now = o.now
	// One probe per half-open period for the whole fleet: a probe whose
	// replica died frees the slot after about one write's longest time.
	brCfg.Shared = fl.breakerState(2*apiCfg.Timeout + time.Second)
	brCfg.OnSharedError = func(err error) { fl.onError("breaker", err) }
	brCfg.OnStateChange = func(from, to breaker.State) {
		log.Warn("addEvent circuit breaker changed state", "from", from.String(), "to", to.String())
		m.BreakerTransition(from.String(), to.String(), int(to))
	}
	br := breaker.New(brCfg)
	var upstream eventsvc.Upstream = api
	var cache *entitycache.Cache
	if cfg.Cache.Enabled {
		if cache, err = newEntityCache(cfg.Cache, api, fl, m, o.now); err != nil {
			return nil, err
		}
		upstream = cache
	}
	store, err := fl.idempotencyStore(cfg.Idempotency, o.now)
	if err != nil {
		return nil, err
	}
	guard := idempotency.NewGuard(store, cfg.Idempotency.TTL, idempotency.Options{Lease: cfg.Idempotency.Lease})
	st := newStreams(cfg.Realtime, m)
	feed, err := startFeed(cfg.Realtime, fl, api, st, m, log)
	if err != nil {
		return nil, err
	}
	svc := eventsvc.New(upstream, br, guard, log, eventsvc.Options{
		Loaders:           loader.Options{Wait: cfg.Upstream.LoaderBatchWait, BatchSize: m.LoaderBatch},
		DetailedErrors:    cfg.Upstream.DetailedErrors,
		WriteCheckRetries: cfg.Upstream.WriteCheckRetries,
		Feed:              feed,
	})
	checker := health.New(api.Ping, func() string { return br.State().String() },
		cfg.HTTP.ReadyCheckInterval, apiCfg.Timeout, o.now)
	if cache != nil {
		checker.ServesStaleReads()
	}
	if fl.shared() {
		checker.ChecksRedis(fl.ping)
	}
	checker.ReportsConcurrency(api.ConcurrencyLimits)
	m.EnableUpstreamConcurrency(api.ConcurrencyLimits)

	routes := &routes{mux: http.NewServeMux(), svc: svc, cache: cfg.Cache.Enabled}
	routes.handleCached("/graphql", newGraphQL(cfg, svc, fl, st, log, m))
	if cfg.GraphQL.IDE {
		routes.handle("GET /{$}", ide.Page("Event Management System", "/graphql"))
		routes.handle("GET "+ide.AssetPrefix, ide.Assets())
	}
	rest.New(svc, log).Register(routes)
	routes.handle("GET /healthz", http.HandlerFunc(checker.Live))
	routes.handle("GET /readyz", http.HandlerFunc(checker.Ready))
	routes.handle("GET /metrics", m.Handler())

	// Outermost last: observe (request id, access log, panics) sees
	// everything, then CORS, then path and size limits, then the deadline.
	var h http.Handler = middleware.Deadline(cfg.HTTP.RequestTimeout, routes.mux)
	h = middleware.Limits(cfg.HTTP.MaxBodyBytes, cfg.HTTP.MaxURLQueryBytes, h)
	h = middleware.CleanPath(h)
	if len(cfg.HTTP.CORSAllowedOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: cfg.HTTP.CORSAllowedOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type", "Authorization", "X-Request-ID", "Idempotency-Key",
				"Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
			ExposedHeaders: []string{"X-Request-ID", "Retry-After", "Idempotent-Replayed"},
			MaxAge:         600,
		}).Handler(h)
	}
	h = middleware.Observe(log, m.HTTPRequest, h)
	// Outermost: the server span, continuing a client's traceparent.
	h = otelhttp.NewHandler(h, "http.server", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method + " " + r.URL.Path // renamed to the route once it is matched
	}))
	return &Gateway{Handler: h, Health: checker, api: api, cache: cache, fleet: fl, streams: st, feed: feed}, nil
}

// EndStreams ends every subscription and WebSocket connection ("going
// away"): call it when the drain period is over, before the server's
// Shutdown, which waits for requests but not for hijacked connections.
func (g *Gateway) EndStreams() { g.streams.close() }

// Close ends the cache's background refreshes, the fleet's subscription
// and Redis connections, then the upstream client's calls, and releases
// its connections.
func (g *Gateway) Close() {
	g.streams.close()
	g.streams.wg.Wait()
	if g.cache != nil {
		g.cache.Close()
	}
	g.fleet.close()
	g.api.Close()
}

// routes is the route table: every route is named for logs and metrics and
// gets its own per-request dataloaders, so batching and caching never leak
// between requests, and, with the entity cache on, its own cache report. It
// is the rest.Mux the REST routes register on.
type routes struct {
	mux   *http.ServeMux
	svc   *eventsvc.Service
	cache bool
}

// Handle implements rest.Mux: REST routes are HTTP-cacheable.
func (rt *routes) Handle(pattern string, h http.Handler) { rt.mount(pattern, h, true) }

// handle mounts a route that is not HTTP-cacheable (probes, metrics, the IDE).
func (rt *routes) handle(pattern string, h http.Handler) { rt.mount(pattern, h, false) }

// handleCached mounts a route whose GET answers carry Cache-Control and an
// ETag, and answer If-None-Match with 304.
func (rt *routes) handleCached(pattern string, h http.Handler) { rt.mount(pattern, h, true) }

// mount stacks a route's layers, outermost first: its name, the HTTP cache
// policy (which must see the entity cache's report complete), the cache
// report, the loaders.
func (rt *routes) mount(pattern string, route http.Handler, cached bool) {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route.ServeHTTP(w, r.WithContext(rt.svc.WithLoaders(r.Context())))
	})
	if rt.cache {
		h = withCacheReport(h)
	}
	if cached {
		h = httpcache.Handler(h)
	}
	rt.mux.Handle(pattern, middleware.Route(pattern, h))
}
