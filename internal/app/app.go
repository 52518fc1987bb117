// Package app wires the gateway together: upstream client, service layer,
// GraphQL and REST front doors, and the HTTP routes that serve them.
package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/idempotency"
	"github.com/eventms/gateway/internal/loader"
	"github.com/eventms/gateway/internal/rest"
)

// App is a wired gateway.
type App struct {
	// Handler serves every route.
	Handler http.Handler
	// Service is the shared service layer (exposed for tests and benchmarks).
	Service *eventsvc.Service
	api     *eventapi.Client
}

// Option adjusts how New wires the gateway.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the time-based parts (circuit breaker, idempotency TTL)
// read now instead of the wall clock; tests use it to be exact and fast.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New wires a gateway calling the Event API at baseURL.
func New(cfg config.Config, baseURL string, log *slog.Logger, opts ...Option) (*App, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	api, err := eventapi.New(eventapi.Config{
		BaseURL: baseURL,
		Timeout: cfg.UpstreamTimeout,
		Retry: eventapi.Retry{
			MaxRetries: cfg.UpstreamMaxRetries,
			Base:       cfg.UpstreamRetryBase,
			Max:        cfg.UpstreamRetryMax,
		},
		MaxConcurrency: cfg.UpstreamMaxConcurrency,
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
		},
	})
	store, err := idempotency.NewMemory[eventsvc.AddedEvent](cfg.IdempotencyMaxKeys, o.now)
	if err != nil {
		return nil, err
	}
	svc := eventsvc.New(api, log, eventsvc.Options{
		Loaders:     loader.Options{Wait: cfg.LoaderBatchWait},
		Breaker:     br,
		Idempotency: idempotency.NewGuard[eventsvc.AddedEvent](store, cfg.IdempotencyTTL),
	})

	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Service: svc}}))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.SetErrorPresenter(graph.ErrorPresenter)
	gql.Use(extension.Introspection{})

	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	mux.Handle("GET /{$}", playground.Handler("Event Management System", "/graphql"))
	restRoutes := rest.New(svc, log)
	for _, p := range restRoutes.Routes() {
		mux.Handle(p, restRoutes)
	}

	return &App{Handler: withLoaders(svc, mux), Service: svc, api: api}, nil
}

// Close releases the upstream client's connections and ends its calls.
func (a *App) Close() { a.api.Close() }

// withLoaders gives every request its own dataloaders, so batching and
// caching never leak between requests.
func withLoaders(svc *eventsvc.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(svc.WithLoaders(r.Context())))
	})
}
