package metrics

import "github.com/prometheus/client_golang/prometheus"

// EnableResponseCache registers the response cache's collectors and
// returns the hooks that feed them: lookups by result (hit, stale, miss,
// stored), answers purged, evictions, and bytes kept (read at scrape).
func (m *Metrics) EnableResponseCache(bytes func() int64) (lookup func(string), purged func(int), evict func()) {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_response_cache_lookups_total", Help: "Response cache lookups by result (hit, stale, miss) and answers stored.",
	}, []string{"result"})
	purges := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_response_cache_purged_total", Help: "Answers purged from the response cache by writes and the purge API.",
	})
	evictions := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_response_cache_evictions_total", Help: "Answers evicted from the response cache to stay within its bytes.",
	})
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gateway_response_cache_bytes", Help: "Bytes the response cache keeps.",
	}, func() float64 { return float64(bytes()) })
	m.reg.MustRegister(lookups, purges, evictions, size)
	return func(r string) { lookups.WithLabelValues(r).Inc() }, func(n int) { purges.Add(float64(n)) }, evictions.Inc
}
