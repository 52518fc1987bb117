package rest_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/respcache"
	"github.com/eventms/gateway/internal/rest"
	"github.com/eventms/gateway/internal/servicetest"
)

// gateway is the REST door, its routes mounted on the server's HTTP stack,
// over the service and a simulator.
type gateway struct {
	*servicetest.Server
	sim    *eventsim.Sim
	simURL string
	url    string
	app    struct{ Handler http.Handler }
}

type option func(*servicetest.Options)

// withClock makes the time-based parts read now.
func withClock(now func() time.Time) option { return func(o *servicetest.Options) { o.Now = now } }

// withUpstream puts upstream in front of the simulator.
func withUpstream(up http.Handler) option { return func(o *servicetest.Options) { o.Upstream = up } }

// withLog sends the gateway's log to log.
func withLog(log *slog.Logger) option { return func(o *servicetest.Options) { o.Log = log } }

func newGateway(t testing.TB, simCfg eventsim.Config, mod func(*config.Config), opts ...option) *gateway {
	t.Helper()
	o := servicetest.Options{Sim: simCfg, Config: mod}
	for _, opt := range opts {
		opt(&o)
	}
	env := servicetest.New(t, o)
	srv := env.Serve(t, func(r *middleware.Routes) {
		rest.New(env.Service, env.Log).Register(r.Door(rest.Refusals(), respcache.Door{}))
	})
	g := &gateway{Server: srv, sim: env.Sim, simURL: env.SimURL, url: srv.URL}
	g.app.Handler = srv.Handler
	return g
}

// cachedGateway is a gateway with the entity cache on (default ages: fresh
// 5s, stale-while-revalidate 1m, stale-if-error 6h) on a fake clock, in
// front of a simulator the test can stop.
func cachedGateway(t *testing.T, mod func(*config.Config)) (*gateway, *servicetest.Clock, func()) {
	t.Helper()
	clock := servicetest.NewClock()
	g := newGateway(t, eventsim.Config{}, func(c *config.Config) {
		c.Cache.Enabled = true
		c.HTTP.ReadyCheckInterval = 0
		if mod != nil {
			mod(c)
		}
	}, withClock(clock.Now))
	return g, clock, g.StopUpstream
}

func (g *gateway) query(t testing.TB, q string, vars map[string]any) servicetest.Response {
	t.Helper()
	return g.Query(t, q, vars)
}

func (g *gateway) tryQuery(q string, vars map[string]any) (servicetest.Response, error) {
	return g.TryQuery(q, vars)
}

func (g *gateway) get(t testing.TB, path string, out any) int {
	t.Helper()
	return g.Get(t, path, out)
}

func (g *gateway) post(t testing.TB, path, body string, header map[string]string, out any) *http.Response {
	t.Helper()
	return g.Post(t, path, body, header, out)
}
