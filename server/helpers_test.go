package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// gateway is the whole composition (newApp) in front of a simulator: the
// wiring tests check what the parts do together (both doors over one
// service and cache, the probes, the metrics, production defaults).
type gateway struct {
	sim    *eventsim.Sim
	simURL string
	url    string
	app    *app
}

// newTestApp is newApp for tests, with the wall clock unless now is given.
func newTestApp(cfg config.Config, baseURL string, log *slog.Logger, now ...func() time.Time) (*app, error) {
	clock := time.Now
	if len(now) > 0 {
		clock = now[0]
	}
	return newApp(cfg, baseURL, log, clock)
}

func newGateway(t testing.TB, simCfg eventsim.Config, mod func(*config.Config), now ...func() time.Time) *gateway {
	t.Helper()
	sim := eventsim.New(simCfg)
	upstream := httptest.NewServer(sim)
	t.Cleanup(upstream.Close)
	cfg := servicetest.Config(t)
	if mod != nil {
		mod(&cfg)
	}
	a, err := newTestApp(cfg, upstream.URL, servicetest.Discard(), now...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	return &gateway{sim: sim, simURL: upstream.URL, url: srv.URL, app: a}
}

// cachedGateway is a gateway with the entity cache on (default ages: fresh
// 5s, stale-while-revalidate 1m, stale-if-error 6h) on a fake clock, in
// front of a simulator the test can stop.
func cachedGateway(t *testing.T, mod func(*config.Config)) (*gateway, *servicetest.Clock, func()) {
	t.Helper()
	sim := eventsim.New(eventsim.Config{})
	upstream := httptest.NewServer(sim)
	t.Cleanup(upstream.Close)
	clock := servicetest.NewClock()
	cfg := servicetest.Config(t)
	cfg.Cache.Enabled = true
	cfg.HTTP.ReadyCheckInterval = 0
	if mod != nil {
		mod(&cfg)
	}
	a, err := newTestApp(cfg, upstream.URL, servicetest.Discard(), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	stop := func() {
		upstream.CloseClientConnections()
		upstream.Close()
	}
	return &gateway{sim: sim, url: srv.URL, app: a}, clock, stop
}

// gatewayOver serves the gateway in front of upstream, a handler that may
// answer some routes itself and pass the rest to a simulator.
func gatewayOver(t *testing.T, sim *eventsim.Sim, upstream http.HandlerFunc) *gateway {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	a, err := newTestApp(servicetest.Config(t), up.URL, servicetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	return &gateway{sim: sim, url: srv.URL, app: a}
}

func (g *gateway) server() *servicetest.Server { return &servicetest.Server{URL: g.url} }

func (g *gateway) query(t testing.TB, q string, vars map[string]any) servicetest.Response {
	t.Helper()
	return g.server().Query(t, q, vars)
}

func (g *gateway) tryQuery(q string, vars map[string]any) (servicetest.Response, error) {
	return g.server().TryQuery(q, vars)
}

func (g *gateway) get(t testing.TB, path string, out any) int {
	t.Helper()
	return g.server().Get(t, path, out)
}

func (g *gateway) post(t testing.TB, path, body string, header map[string]string, out any) *http.Response {
	t.Helper()
	return g.server().Post(t, path, body, header, out)
}
