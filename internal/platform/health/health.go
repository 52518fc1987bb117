// Package health answers liveness and readiness probes.
package health

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventms/gateway/internal/httpjson"
	"github.com/eventms/gateway/internal/upstream/adaptivelimit"
)

// Checker serves /healthz and /readyz.
type Checker struct {
	ping       func(context.Context) error
	breaker    func() string
	now        func() time.Time
	cacheFor   time.Duration
	timeout    time.Duration
	staleReads bool
	redisPing  func(context.Context) error
	limits     func() map[string]adaptivelimit.Snapshot
	components map[string]func() Component
	draining   atomic.Bool

	mu      sync.Mutex
	checked time.Time
	lastErr error
}

// New returns a Checker that pings the upstream at most once per cacheFor
// (probes may come often; the upstream is not ours to load), each ping
// bounded by timeout. breaker reports the circuit state; now is the clock.
func New(ping func(context.Context) error, breaker func() string, cacheFor, timeout time.Duration, now func() time.Time) *Checker {
	if now == nil {
		now = time.Now
	}
	return &Checker{ping: ping, breaker: breaker, now: now, cacheFor: cacheFor, timeout: timeout}
}

// ServesStaleReads tells the checker that reads keep working while the
// upstream is down (an entity cache serves what it saw before): an
// unreachable upstream then makes the gateway degraded, still ready, so
// that a whole fleet does not turn unready at once when the dependency it
// shares fails (the classic cascading failure).
func (c *Checker) ServesStaleReads() { c.staleReads = true }

// ChecksRedis adds the fleet's shared Redis to /readyz. Its outage does not
// make the gateway unready: reads go on without it, and only writes with an
// idempotency key are refused; the body says so.
func (c *Checker) ChecksRedis(ping func(context.Context) error) { c.redisPing = ping }

// ReportsConcurrency adds the upstream routes' adaptive concurrency limits
// to /readyz: an operator asking "why is it slow" sees at once whether the
// gateway is holding calls back because the upstream said it is full.
func (c *Checker) ReportsConcurrency(limits func() map[string]adaptivelimit.Snapshot) {
	c.limits = limits
}

// Component is what /readyz says of one more part of the gateway (the
// identity provider's keys, the shared rate limits): not Ready makes the
// gateway not ready (503); Degraded makes it "degraded", still ready.
type Component struct {
	Ready    bool `json:"ready"`
	Degraded bool `json:"degraded,omitempty"`
	Detail   any  `json:"detail,omitempty"`
}

// Reports adds a component /readyz reports on under name.
func (c *Checker) Reports(name string, check func() Component) {
	if c.components == nil {
		c.components = map[string]func() Component{}
	}
	c.components[name] = check
}

// Drain marks the process as shutting down: /readyz answers 503 from now on
// so load balancers stop sending new requests.
func (c *Checker) Drain() { c.draining.Store(true) }

// Live answers 200 while the process serves HTTP at all.
func (c *Checker) Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// readiness is the /readyz body.
type readiness struct {
	Status         string     `json:"status"`
	Upstream       upstream   `json:"upstream"`
	CircuitBreaker string     `json:"circuitBreaker"`
	Redis          *redisBody `json:"redis,omitempty"`
	// UpstreamConcurrency is each upstream route's adaptive limit.
	UpstreamConcurrency map[string]adaptivelimit.Snapshot `json:"upstreamConcurrency,omitempty"`
	Components          map[string]Component              `json:"components,omitempty"`
}

type redisBody struct {
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

type upstream struct {
	Reachable bool   `json:"reachable"`
	Degraded  bool   `json:"degraded,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Ready answers 200 when the upstream is reachable and the process is not
// draining, 503 otherwise; the body says which. An OPEN breaker alone does
// not make the gateway unready: reads still work. Nor, when the gateway
// serves stale reads, does an unreachable upstream: it is "degraded".
func (c *Checker) Ready(w http.ResponseWriter, r *http.Request) {
	err := c.upstreamErr(r.Context())
	body := readiness{Status: "ready", Upstream: upstream{Reachable: err == nil}, CircuitBreaker: c.breaker()}
	status := http.StatusOK
	switch {
	case err != nil && c.staleReads:
		body.Upstream.Error, body.Upstream.Degraded = err.Error(), true
		body.Status = "degraded"
	case err != nil:
		body.Upstream.Error = err.Error()
		body.Status, status = "not ready", http.StatusServiceUnavailable
	}
	if c.redisPing != nil {
		pctx, cancel := context.WithTimeout(r.Context(), c.timeout)
		err := c.redisPing(pctx)
		cancel()
		body.Redis = &redisBody{Reachable: err == nil}
		if err != nil {
			body.Redis.Error = err.Error()
			if body.Status == "ready" {
				body.Status = "degraded"
			}
		}
	}
	if c.limits != nil {
		body.UpstreamConcurrency = c.limits()
	}
	for name, check := range c.components {
		if body.Components == nil {
			body.Components = map[string]Component{}
		}
		comp := check()
		body.Components[name] = comp
		switch {
		case !comp.Ready:
			body.Status, status = "not ready", http.StatusServiceUnavailable
		case comp.Degraded && body.Status == "ready":
			body.Status = "degraded"
		}
	}
	if c.draining.Load() {
		body.Status, status = "draining", http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func (c *Checker) upstreamErr(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.checked.IsZero() || now.Sub(c.checked) >= c.cacheFor {
		pctx, cancel := context.WithTimeout(ctx, c.timeout)
		c.lastErr = c.ping(pctx)
		cancel()
		c.checked = now
	}
	return c.lastErr
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, status, v)
}
