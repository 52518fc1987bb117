// Package graphtest serves the GraphQL door for the tests of graph and its
// sub-packages: the door from graph.NewHandler, mounted at /graphql on the
// server's own HTTP stack, over the service and a real simulator
// (servicetest). It is for tests only.
package graphtest

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// Gateway is the door served over HTTP. Sim is the upstream; URL the door's
// server; Handler the whole stack, for in-process benchmarks.
type Gateway struct {
	*servicetest.Server
	Door *graph.Handler
}

// Option adjusts how New wires the gateway.
type Option func(*servicetest.Options)

// WithClock makes the time-based parts read now.
func WithClock(now func() time.Time) Option { return func(o *servicetest.Options) { o.Now = now } }

// WithUpstream puts up in front of the simulator (it may pass calls on to
// Gateway.Sim).
func WithUpstream(up http.Handler) Option { return func(o *servicetest.Options) { o.Upstream = up } }

// WithCallers tells callers apart: authz decides what they may see and do,
// caller says who they are and what they may spend.
func WithCallers(authz eventsvc.Authorization, caller *middleware.Caller) Option {
	return func(o *servicetest.Options) { o.Authorization, o.Caller = authz, caller }
}

// WithLog sends the gateway's log to log.
func WithLog(log *slog.Logger) Option { return func(o *servicetest.Options) { o.Log = log } }

// New serves the door over a simulator configured by sim, with the test
// configuration (servicetest.Config) adjusted by mod; it ends with t.
func New(t testing.TB, sim eventsim.Config, mod func(*config.Config), opts ...Option) *Gateway {
	t.Helper()
	o := servicetest.Options{Sim: sim, Config: mod}
	for _, opt := range opts {
		opt(&o)
	}
	env := servicetest.New(t, o)
	door := graph.NewHandler(graph.Settings{GraphQL: env.Config.GraphQL, Realtime: env.Config.Realtime,
		AllowedOrigins: env.Config.HTTP.CORSAllowedOrigins, CSRFPrevention: env.Config.HTTP.CSRFPrevention,
		RequestTimeout: env.Config.HTTP.RequestTimeout},
		graph.Deps{Service: env.Service, Log: env.Log, Metrics: env.Metrics})
	t.Cleanup(door.Close)
	srv := env.Serve(t, door.Register)
	return &Gateway{Server: srv, Door: door}
}

// Cached is New with the entity cache on (default ages: fresh 5s,
// stale-while-revalidate 1m, stale-if-error 6h) on a settable clock.
func Cached(t testing.TB, mod func(*config.Config)) (*Gateway, *servicetest.Clock) {
	t.Helper()
	clock := servicetest.NewClock()
	g := New(t, eventsim.Config{}, func(c *config.Config) {
		c.Cache.Enabled = true
		c.HTTP.ReadyCheckInterval = 0
		if mod != nil {
			mod(c)
		}
	}, WithClock(clock.Now))
	return g, clock
}

// EndStreams ends the door's streams and the feed's subscriptions, as
// shutdown does.
func (g *Gateway) EndStreams() {
	g.Door.Close()
	g.Feed.Close()
}
