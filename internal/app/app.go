// Package app wires the gateway together: upstream client, service layer,
// GraphQL and REST front doors, health, metrics, and the HTTP layers every
// request passes through.
package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/rs/cors"

	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/gqlhttp"
	"github.com/eventms/gateway/internal/health"
	"github.com/eventms/gateway/internal/ide"
	"github.com/eventms/gateway/internal/idempotency"
	"github.com/eventms/gateway/internal/loader"
	"github.com/eventms/gateway/internal/metrics"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/rest"
)

// App is a wired gateway.
type App struct {
	// Handler serves every route.
	Handler http.Handler
	// Service is the shared service layer.
	Service *eventsvc.Service
	// Health answers the probes; Drain it when shutting down.
	Health *health.Checker
	// Metrics holds the Prometheus collectors served at /metrics.
	Metrics *metrics.Metrics
	api     *eventapi.Client
}

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
func New(cfg config.Config, baseURL string, log *slog.Logger, opts ...Option) (*App, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	m := metrics.New()
	api, err := eventapi.New(eventapi.Config{
		BaseURL: baseURL,
		Timeout: cfg.UpstreamTimeout,
		Retry: eventapi.Retry{
			MaxRetries: cfg.UpstreamMaxRetries,
			Base:       cfg.UpstreamRetryBase,
			Max:        cfg.UpstreamRetryMax,
		},
		MaxConcurrency: cfg.UpstreamMaxConcurrency,
		Hooks:          eventapi.Hooks{Call: m.UpstreamCall, Retry: m.UpstreamRetry, Shared: m.UpstreamShared},
	})
	if err != nil {
		return nil, fmt.Errorf("upstream client: %w", err)
	}
	br := breaker.New(breaker.Config{
		FailureThreshold: cfg.BreakerFailureThreshold,
		FailureWindow:    cfg.BreakerFailureWindow,
		ResetTimeout:     cfg.BreakerResetTimeout,
		MaxResetTimeout:  cfg.BreakerMaxResetTimeout,
		Jitter:           cfg.BreakerJitter,
		Now:              o.now,
		OnStateChange: func(from, to breaker.State) {
			log.Warn("addEvent circuit breaker changed state", "from", from.String(), "to", to.String())
			m.BreakerTransition(from.String(), to.String(), int(to))
		},
	})
	store, err := idempotency.NewMemory[eventsvc.AddedEvent](cfg.IdempotencyMaxKeys, o.now)
	if err != nil {
		return nil, err
	}
	svc := eventsvc.New(api, br, idempotency.NewGuard[eventsvc.AddedEvent](store, cfg.IdempotencyTTL), log, eventsvc.Options{
		Loaders:           loader.Options{Wait: cfg.LoaderBatchWait, BatchSize: m.LoaderBatch},
		DetailedErrors:    cfg.DetailedErrors,
		WriteCheckRetries: cfg.UpstreamWriteCheckRetries,
	})
	checker := health.New(api.Ping, func() string { return br.State().String() },
		cfg.ReadyCheckInterval, cfg.UpstreamTimeout, o.now)

	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, middleware.Route(pattern, h)) }

	gql := gqlhttp.CheckRequest(gqlhttp.NormalizeErrors(withLoaders(svc, newGraphQL(cfg, svc, log, m))))
	if cfg.CSRFPrevention {
		gql = middleware.GraphQLCSRF(gql)
	}
	handle("/graphql", gql)
	if cfg.IDE {
		handle("GET /{$}", ide.Page("Event Management System", "/graphql"))
		handle("GET "+ide.AssetPrefix, ide.Assets())
	}
	rest.New(svc, log).Register(muxFunc(func(p string, h http.Handler) { handle(p, withLoaders(svc, h)) }))
	handle("GET /healthz", http.HandlerFunc(checker.Live))
	handle("GET /readyz", http.HandlerFunc(checker.Ready))
	handle("GET /metrics", m.Handler())

	var h http.Handler = middleware.Deadline(cfg.RequestTimeout, mux)
	h = middleware.Limits(cfg.MaxBodyBytes, cfg.MaxURLQueryBytes, h)
	h = middleware.CleanPath(h)
	if len(cfg.CORSAllowedOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: cfg.CORSAllowedOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type", "Authorization", "X-Request-ID", "Idempotency-Key",
				"Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
			ExposedHeaders: []string{"X-Request-ID", "Retry-After", "Idempotent-Replayed"},
			MaxAge:         600,
		}).Handler(h)
	}
	h = middleware.Observe(log, m.HTTPRequest, h)
	return &App{Handler: h, Service: svc, Health: checker, Metrics: m, api: api}, nil
}

// Close releases the upstream client's connections and ends its calls.
func (a *App) Close() { a.api.Close() }

// muxFunc mounts a route by calling itself.
type muxFunc func(pattern string, h http.Handler)

func (f muxFunc) Handle(pattern string, h http.Handler) { f(pattern, h) }

// withLoaders gives every request its own dataloaders, so batching and
// caching never leak between requests.
func withLoaders(svc *eventsvc.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(svc.WithLoaders(r.Context())))
	})
}
