package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxClientNames bounds the client names a label may take: a client names
// itself in a header anyone can send, and every new value would be a new
// series. Names past the bound count as "other".
const maxClientNames = 50

// callerMetrics are the per-caller collectors: requests by client name,
// refusals by budget, the limits' fallback state.
type callerMetrics struct {
	clients *prometheus.CounterVec
	refused *prometheus.CounterVec
	mu      sync.Mutex
	names   map[string]bool
}

func newCallerMetrics(reg *prometheus.Registry) *callerMetrics {
	c := &callerMetrics{
		clients: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_client_requests_total",
			Help: "Requests by client name (apollographql-client-name; at most 50 names, the rest as other, none as unknown).",
		}, []string{"client"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_rate_limited_total", Help: "Requests and operations refused by a per-caller budget (requests, cost).",
		}, []string{"budget"}),
		names: map[string]bool{},
	}
	reg.MustRegister(c.clients, c.refused)
	return c
}

// ClientRequest counts a request of the client name (bounded labels).
func (m *Metrics) ClientRequest(name string) {
	c := m.callers
	switch {
	case name == "":
		name = "unknown"
	default:
		c.mu.Lock()
		if !c.names[name] {
			if len(c.names) >= maxClientNames {
				name = "other"
			} else {
				c.names[name] = true
			}
		}
		c.mu.Unlock()
	}
	c.clients.WithLabelValues(name).Inc()
}

// RateLimited counts a refusal by a per-caller budget.
func (m *Metrics) RateLimited(budget string) { m.callers.refused.WithLabelValues(budget).Inc() }

// EnableRateLimits shows whether the fleet's shared budgets have fallen
// back to per-process ones (Redis failing): gateway_rate_limit_degraded.
func (m *Metrics) EnableRateLimits(degraded func() bool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gateway_rate_limit_degraded", Help: "1 while the shared per-caller budgets answer from per-process ones (Redis failing).",
	}, func() float64 {
		if degraded() {
			return 1
		}
		return 0
	}))
}
