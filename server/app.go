package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/eventsvc/loader"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/health"
	"github.com/eventms/gateway/internal/platform/metrics"
	"github.com/eventms/gateway/internal/respcache"
	"github.com/eventms/gateway/internal/rest"
	"github.com/eventms/gateway/internal/state/entitycache"
	"github.com/eventms/gateway/internal/state/eventfeed"
	"github.com/eventms/gateway/internal/state/fleet"
	"github.com/eventms/gateway/internal/state/idempotency"
	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// app is a wired gateway: every part built from the configuration, and
// the handler that serves both front doors.
type app struct {
	handler http.Handler
	health  *health.Checker
	graphql *graph.Handler
	feed    *eventfeed.Feed
	// closers end what was started, in the order to run them.
	closers []func()
}

// newApp wires a gateway calling the Event API at baseURL. now is the
// clock of the time-based parts (breaker, idempotency TTL, cache ages,
// readiness cache).
func newApp(cfg config.Config, baseURL string, log *slog.Logger, now func() time.Time) (*app, error) {
	a := &app{}
	m := metrics.New()
	conn := fleet.Dial(cfg.Redis.Options, cfg.Redis.KeyPrefix, log, func(op string, err error) {
		m.RedisError(op)
		log.Debug("redis failed; going on without it", "op", op, "err", err)
	})
	if conn.Shared() {
		m.EnableRedis()
	}

	apiCfg := cfg.Upstream.Client
	apiCfg.BaseURL = baseURL
	apiCfg.Hooks = eventapi.Hooks{Call: m.UpstreamCall, Retry: m.UpstreamRetry, Shared: m.UpstreamShared, Request: identity.Forwarding(cfg.Auth.Forward, cfg.Auth.ForwardHeader)}
	api, err := eventapi.New(apiCfg)
	if err != nil {
		return nil, fmt.Errorf("upstream client: %w", err)
	}
	a.closers = append(a.closers, api.Close)

	br := breaker.New(breakerConfig(cfg.Breaker, conn, 2*apiCfg.Timeout+time.Second, now, log, m))
	var upstream eventsvc.Upstream = api
	var track httpcache.Tracker
	var cache *entitycache.Cache
	var answers *respcache.Cache
	if cfg.Cache.Enabled {
		if rc := cfg.Cache.Responses; rc.Enabled {
			answers = responseCache(rc, cfg.Cache.Entity.StaleWhileRevalidate, m, now)
			a.closers = append(a.closers, answers.Close)
		}
		if cache, err = entityCache(cfg.Cache, api, conn, m, now, answers); err != nil {
			return nil, err
		}
		a.closers = append([]func(){cache.Close}, a.closers...)
		upstream, track = cache, entitycache.Track
	}
	guard, err := idempotency.OpenGuard[eventsvc.AddedEvent](conn, cfg.Idempotency.MaxKeys, cfg.Idempotency.TTL,
		idempotency.Options{Lease: cfg.Idempotency.Lease}, now)
	if err != nil {
		return nil, err
	}
	// The feed of added events, and the poller that finds those other
	// clients added upstream; in a fleet one replica at a time polls.
	a.feed, err = eventfeed.Open(conn, cfg.Realtime.Buffer, eventfeed.Poller{List: api.Events, Interval: cfg.Realtime.PollInterval,
		OnError: func(err error) { log.Debug("polling the upstream for added events failed", "err", err) }},
		eventfeed.Hooks{Subscribers: m.Subscriptions, Delivered: m.SubscriptionEvent, Dropped: m.SubscriptionDropped})
	if err != nil {
		return nil, err
	}
	svc := eventsvc.New(upstream, br, guard, log, eventsvc.Options{
		Loaders:           loader.Options{Wait: cfg.Upstream.LoaderBatchWait, BatchSize: m.LoaderBatch},
		DetailedErrors:    cfg.Upstream.DetailedErrors,
		WriteCheckRetries: cfg.Upstream.WriteCheckRetries,
		Feed:              a.feed,
		MaxPageSize:       cfg.Paging.MaxPageSize,
		Authorization:     eventsvc.Authorization{Enabled: cfg.Auth.Mode != identity.Off, AdminScope: cfg.Auth.AdminScope},
	})

	a.health = health.New(api.Ping, func() string { return br.State().String() },
		cfg.HTTP.ReadyCheckInterval, apiCfg.Timeout, now)
	if cfg.Cache.Enabled {
		a.health.ServesStaleReads()
	}
	if conn.Shared() {
		a.health.ChecksRedis(conn.Ping)
	}
	a.health.ReportsConcurrency(api.ConcurrencyLimits)
	m.EnableUpstreamConcurrency(api.ConcurrencyLimits)
	who, err := newCallers(cfg, conn, m, a.health, log, now)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, who.verifier.Close) // nil-safe

	reloaded := func() { answers.Purge("*") } // a nil cache purges nothing
	mode, store, err := graph.OpenTrustedDocuments(cfg.TrustedDocuments, svc, conn, log, reloaded)
	if err != nil {
		return nil, err
	}
	if store != nil {
		a.closers = append(a.closers, store.Close) // before conn.Close, below
	}
	a.graphql = graph.NewHandler(graph.Settings{GraphQL: cfg.GraphQL, Realtime: cfg.Realtime,
		AllowedOrigins: cfg.HTTP.CORSAllowedOrigins, CSRFPrevention: cfg.HTTP.CSRFPrevention, RequestTimeout: cfg.HTTP.RequestTimeout,
		TrustedDocuments: mode},
		graph.Deps{Service: svc, Log: log, Metrics: m, Fleet: conn, Trusted: store,
			AuthenticateToken: who.verifier.TokenAuthenticator(cfg.Auth.Mode), Budgets: who.budgets})
	stack := &middleware.Stack{
		Log: log, Record: m.HTTPRequest,
		RequestTimeout: cfg.HTTP.RequestTimeout, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		MaxURLQueryBytes: cfg.HTTP.MaxURLQueryBytes, CORSAllowedOrigins: cfg.HTTP.CORSAllowedOrigins,
		Compression: cfg.HTTP.Compression, CompressMinBytes: cfg.HTTP.CompressMinBytes,
		Caller: who.layer, Responses: answers, Request: svc.WithLoaders, Track: track,
	}
	routes := stack.Routes()
	a.graphql.Register(routes)
	if admin := (middleware.Admin{Verifier: who.verifier, Scope: cfg.Auth.AdminScope, Token: cfg.Cache.AdminToken}); answers != nil && admin.Enabled() {
		purge := func(ctx context.Context, tags []string) int { // the entity cache's deletions reach the fleet
			n := answers.Purge(tags...)
			cache.Invalidate(ctx, tags...)
			return n
		}
		routes.HandleUncached("POST /admin/cache/purge", respcache.PurgeHandler(purge, admin.Allow))
	}
	rest.New(svc, log).Register(routes.Door(rest.Refusals(), respcache.Door{}))
	routes.HandleUncached("GET /healthz", http.HandlerFunc(a.health.Live))
	routes.HandleUncached("GET /readyz", http.HandlerFunc(a.health.Ready))
	routes.HandleUncached("GET /metrics", m.Handler())
	a.handler = stack.Handler(routes)
	a.closers = append(a.closers, conn.Close)
	return a, nil
}

// endStreams ends every subscription and WebSocket connection ("going
// away"), so clients reconnect elsewhere: call it when the drain period is
// over, before the server's Shutdown, which waits for requests but not for
// hijacked connections.
func (a *app) endStreams() {
	a.graphql.Close()
	a.feed.Close()
}

// close ends the streams, the cache's background work, the upstream
// client's calls and the fleet's connections.
func (a *app) close() {
	a.endStreams()
	// What the streams left running: executions of answers in parts that
	// nobody reads any more, each bounded by its upstream calls' timeouts.
	a.graphql.Wait()
	for _, c := range a.closers {
		c()
	}
}

// breakerConfig is cfg with the clock, the hooks and, in a fleet, the
// circuit's shared state: one probe per half-open period for the whole
// fleet, whose slot a dead replica frees after probeLease.
func breakerConfig(cfg breaker.Config, conn *fleet.Conn, probeLease time.Duration, now func() time.Time,
	log *slog.Logger, m *metrics.Metrics,
) breaker.Config {
	cfg.Now = now
	if conn.Shared() {
		cfg.Shared = breaker.NewRedis(conn.Client(), conn.Prefix, probeLease)
		cfg.OnSharedError = func(err error) { conn.OnError("breaker", err) }
	}
	cfg.OnStateChange = func(from, to breaker.State) {
		log.Warn("addEvent circuit breaker changed state", "from", from.String(), "to", to.String())
		m.BreakerTransition(from.String(), to.String(), int(to))
	}
	return cfg
}

// entityCache puts the entity cache in front of api, with the fleet's
// shared level behind this replica's memory when there is one.
func entityCache(cfg config.Cache, api *eventapi.Client, conn *fleet.Conn, m *metrics.Metrics, now func() time.Time,
	answers *respcache.Cache,
) (*entitycache.Cache, error) {
	ecfg := cfg.Entity
	store, local, err := entitycache.NewStore(conn, cfg.MaxEntries, ecfg.StaleIfError, m.CacheEviction)
	if err != nil {
		return nil, err
	}
	m.EnableCache(local.Len)
	ecfg.Now = now
	ecfg.Hooks = entitycache.Hooks{Hit: m.CacheHit, Miss: m.CacheMiss, Stale: m.CacheStale, Refresh: m.CacheRefresh}
	if answers != nil { // what a write deletes, here or in another replica, purges the answers built from it
		ecfg.Deleted = func(keys []string) { answers.Purge(keys...) }
	}
	return entitycache.New(api, store, ecfg), nil
}

// responseCache keeps whole answers; their stale period is the entities'.
func responseCache(cfg config.ResponseCache, staleFor time.Duration, m *metrics.Metrics, now func() time.Time) *respcache.Cache {
	var c *respcache.Cache
	lookup, purged, evict := m.EnableResponseCache(func() int64 { return c.Bytes() })
	c = respcache.New(respcache.Config{MaxBytes: cfg.MaxBytes, MaxEntryBytes: cfg.MaxEntryBytes, RefreshAhead: cfg.RefreshAhead,
		StaleFor: staleFor, Now: now, Hooks: respcache.Hooks{Lookup: lookup, Purged: purged, Evict: evict},
		Refreshing: entitycache.WithRevalidate})
	return c
}
