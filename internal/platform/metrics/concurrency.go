package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventms/gateway/internal/upstream/adaptivelimit"
)

// concurrencyCollector reads the upstream routes' adaptive limits at every
// scrape: the limit moves on every sampling window, far more often than
// anyone scrapes, so a gauge set on each change would only cost.
type concurrencyCollector struct {
	read                    func() map[string]adaptivelimit.Snapshot
	limit, inFlight, waiter *prometheus.Desc
}

// EnableUpstreamConcurrency registers the per-route adaptive concurrency
// limits; read returns them as they stand.
func (m *Metrics) EnableUpstreamConcurrency(read func() map[string]adaptivelimit.Snapshot) {
	m.reg.MustRegister(&concurrencyCollector{
		read: read,
		limit: prometheus.NewDesc("gateway_upstream_concurrency_limit",
			"Current adaptive limit of upstream calls in flight, by route.", []string{"route"}, nil),
		inFlight: prometheus.NewDesc("gateway_upstream_in_flight",
			"Upstream calls in flight, by route.", []string{"route"}, nil),
		waiter: prometheus.NewDesc("gateway_upstream_waiting",
			"Upstream calls waiting for a slot under the limit, by route.", []string{"route"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *concurrencyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.limit
	ch <- c.inFlight
	ch <- c.waiter
}

// Collect implements prometheus.Collector.
func (c *concurrencyCollector) Collect(ch chan<- prometheus.Metric) {
	for route, s := range c.read() {
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(s.Limit), route)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight), route)
		ch <- prometheus.MustNewConstMetric(c.waiter, prometheus.GaugeValue, float64(s.Waiting), route)
	}
}
