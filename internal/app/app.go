// Package app wires the gateway together: upstream client, service layer,
// GraphQL and REST front doors, and the HTTP routes that serve them.
package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsvc"
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

// New wires a gateway calling the Event API at baseURL.
func New(cfg config.Config, baseURL string, log *slog.Logger) (*App, error) {
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
	svc := eventsvc.New(api, log, loader.Options{Wait: cfg.LoaderBatchWait})

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
