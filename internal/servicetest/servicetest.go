// Package servicetest gives the front doors' tests what they stand on: the
// service layer over a real simulator, wired as the server wires one
// process (memory stores, no Redis), behind the server's own HTTP stack
// (middleware.Stack), and a client that speaks to it. A door's tests mount
// the door on it and test it through the real HTTP handler; the server's
// tests use the real composition root instead. It is for tests only.
package servicetest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/eventsvc/loader"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/metrics"
	"github.com/eventms/gateway/internal/respcache"
	"github.com/eventms/gateway/internal/state/entitycache"
	"github.com/eventms/gateway/internal/state/eventfeed"
	"github.com/eventms/gateway/internal/state/idempotency"
	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Options shape an Env; the zero value is a default simulator and Config.
type Options struct {
	Sim eventsim.Config
	// Config adjusts the test configuration (Config) before wiring.
	Config func(*config.Config)
	// Now is the clock of the time-based parts [time.Now].
	Now func() time.Time
	// Upstream, if set, answers the gateway's upstream calls instead of
	// the simulator; it may pass some to Env.Sim.
	Upstream http.Handler
	// UpstreamURL, if set, is called instead of a server of the simulator
	// (a closed port, say).
	UpstreamURL string
	// Log receives the gateway's log [discarded].
	Log *slog.Logger
	// Authorization tells callers apart [off]; Caller says who they are
	// and what they may spend [anonymous, no limits].
	Authorization eventsvc.Authorization
	Caller        *middleware.Caller
}

// Env is the service layer over a simulator and the stack its doors sit in.
type Env struct {
	Sim *eventsim.Sim
	// SimURL is the upstream's address; StopUpstream ends it.
	SimURL       string
	StopUpstream func()
	Config       config.Config
	API          *eventapi.Client
	Cache        *entitycache.Cache // nil with the cache off
	Responses    *respcache.Cache   // nil with the cache or the response cache off
	Feed         *eventfeed.Feed
	Service      *eventsvc.Service
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	Stack        *middleware.Stack
}

// Config is the default configuration with fast retries and the entity
// cache off: most tests count what reaches the upstream, which the cache
// would hide; tests of the cache turn it on.
func Config(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream.Client.Retry.Base = time.Millisecond
	cfg.Upstream.Client.Retry.Max = 5 * time.Millisecond
	cfg.Cache.Enabled = false
	return cfg
}

// New wires an Env; everything it starts ends with t.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{Sim: eventsim.New(o.Sim), Config: Config(t), Log: o.Log, Metrics: metrics.New()}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Config != nil {
		o.Config(&e.Config)
	}
	e.SimURL, e.StopUpstream = o.UpstreamURL, func() {}
	if e.SimURL == "" {
		var up http.Handler = e.Sim
		if o.Upstream != nil {
			up = o.Upstream
		}
		srv := httptest.NewServer(up)
		t.Cleanup(srv.Close)
		e.SimURL = srv.URL
		e.StopUpstream = func() { srv.CloseClientConnections(); srv.Close() }
	}
	cfg := e.Config
	apiCfg := cfg.Upstream.Client
	apiCfg.BaseURL = e.SimURL
	apiCfg.Hooks = eventapi.Hooks{Call: e.Metrics.UpstreamCall, Retry: e.Metrics.UpstreamRetry}
	api, err := eventapi.New(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	e.API = api
	brCfg := cfg.Breaker
	brCfg.Now = o.Now
	var upstream eventsvc.Upstream = api
	var track httpcache.Tracker
	if cfg.Cache.Enabled {
		local, err := entitycache.NewMemory(cfg.Cache.MaxEntries, nil)
		if err != nil {
			t.Fatal(err)
		}
		ecfg := cfg.Cache.Entity
		ecfg.Now = o.Now
		if rc := cfg.Cache.Responses; rc.Enabled {
			e.Responses = respcache.New(respcache.Config{MaxBytes: rc.MaxBytes, MaxEntryBytes: rc.MaxEntryBytes,
				RefreshAhead: rc.RefreshAhead, StaleFor: ecfg.StaleWhileRevalidate, Now: o.Now, Refreshing: entitycache.WithRevalidate})
			t.Cleanup(e.Responses.Close)
			ecfg.Deleted = func(keys []string) { e.Responses.Purge(keys...) }
		}
		e.Cache = entitycache.New(api, local, ecfg)
		t.Cleanup(e.Cache.Close)
		upstream, track = e.Cache, Freshness
	}
	store, err := idempotency.NewMemory[eventsvc.AddedEvent](cfg.Idempotency.MaxKeys, o.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.Feed = eventfeed.New(&eventfeed.Memory{}, cfg.Realtime.Buffer, eventfeed.Hooks{})
	if err := e.Feed.Run(&eventfeed.Poller{Feed: e.Feed, List: api.Events, Interval: cfg.Realtime.PollInterval}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Feed.Close)
	e.Service = eventsvc.New(upstream, breaker.New(brCfg),
		idempotency.NewGuard(store, cfg.Idempotency.TTL, idempotency.Options{Lease: cfg.Idempotency.Lease}), e.Log,
		eventsvc.Options{Loaders: loader.Options{Wait: cfg.Upstream.LoaderBatchWait}, DetailedErrors: cfg.Upstream.DetailedErrors,
			WriteCheckRetries: cfg.Upstream.WriteCheckRetries, Feed: e.Feed, MaxPageSize: cfg.Paging.MaxPageSize,
			Authorization: o.Authorization})
	e.Stack = &middleware.Stack{
		Log: e.Log, Record: e.Metrics.HTTPRequest,
		RequestTimeout: cfg.HTTP.RequestTimeout, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		MaxURLQueryBytes: cfg.HTTP.MaxURLQueryBytes, CORSAllowedOrigins: cfg.HTTP.CORSAllowedOrigins,
		Compression: cfg.HTTP.Compression, CompressMinBytes: cfg.HTTP.CompressMinBytes,
		Caller: o.Caller, Responses: e.Responses, Request: e.Service.WithLoaders, Track: track,
	}
	return e
}

// Freshness is the entity cache's report as the HTTP cache reads it.
func Freshness(ctx context.Context) (context.Context, func() httpcache.Freshness) {
	ctx, rep := entitycache.WithReport(ctx)
	return ctx, func() httpcache.Freshness {
		s := rep.Summary()
		return httpcache.Freshness{Used: s.Used, Stale: s.Stale, Age: s.Age, FreshFor: s.FreshFor, Keys: s.Keys}
	}
}

// Serve mounts routes on the Env's stack and serves them until t ends.
func (e *Env) Serve(t testing.TB, mount func(*middleware.Routes)) *Server {
	t.Helper()
	routes := e.Stack.Routes()
	mount(routes)
	h := e.Stack.Handler(routes)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Server{Env: e, URL: srv.URL, Handler: h}
}

// Discard is a logger that drops everything.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
