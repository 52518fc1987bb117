package metrics

import "github.com/prometheus/client_golang/prometheus"

// cacheMetrics are the entity cache's collectors, registered only when the
// cache is on.
type cacheMetrics struct {
	lookups   *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	evictions prometheus.Counter
}

// EnableCache registers the entity cache's collectors; entries reports how
// many entries the cache holds, read at every scrape.
func (m *Metrics) EnableCache(entries func() int) {
	m.cache = &cacheMetrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cache_lookups_total",
			Help: "Entity cache lookups by kind (user, event, users, events) and result (hit, miss, stale).",
		}, []string{"kind", "result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cache_refreshes_total", Help: "Background refreshes of stale entries by kind.",
		}, []string{"kind"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_cache_evictions_total", Help: "Entries pushed out of the entity cache to make room.",
		}),
	}
	m.reg.MustRegister(m.cache.lookups, m.cache.refreshes, m.cache.evictions,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gateway_cache_entries", Help: "Entries held by the entity cache.",
		}, func() float64 { return float64(entries()) }))
}

// CacheHit records a lookup answered fresh from the cache.
func (m *Metrics) CacheHit(kind string) { m.cache.lookups.WithLabelValues(kind, "hit").Inc() }

// CacheMiss records a lookup that went to the upstream.
func (m *Metrics) CacheMiss(kind string) { m.cache.lookups.WithLabelValues(kind, "miss").Inc() }

// CacheStale records a lookup answered with a stale entry.
func (m *Metrics) CacheStale(kind string) { m.cache.lookups.WithLabelValues(kind, "stale").Inc() }

// CacheRefresh records a background refresh started.
func (m *Metrics) CacheRefresh(kind string) { m.cache.refreshes.WithLabelValues(kind).Inc() }

// CacheEviction records an entry pushed out to make room.
func (m *Metrics) CacheEviction() { m.cache.evictions.Inc() }

// EnableRedis registers the collectors of the fleet's shared state.
func (m *Metrics) EnableRedis() {
	m.redisErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_redis_errors_total",
		Help: "Failed Redis commands by operation; the gateway went on without Redis for each (reads) or refused (keyed writes).",
	}, []string{"op"})
	m.reg.MustRegister(m.redisErrors)
}

// RedisError records a failed Redis command.
func (m *Metrics) RedisError(op string) { m.redisErrors.WithLabelValues(op).Inc() }

// realtimeMetrics are the subscriptions' collectors.
type realtimeMetrics struct {
	connections   prometheus.Gauge
	subscriptions prometheus.Gauge
	delivered     prometheus.Counter
	dropped       prometheus.Counter
}

func newRealtimeMetrics(reg *prometheus.Registry) *realtimeMetrics {
	r := &realtimeMetrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_websocket_connections", Help: "Open WebSocket connections.",
		}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_subscriptions", Help: "Active eventAdded subscriptions (all transports).",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_subscription_events_total", Help: "Events sent to subscribers.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_subscription_dropped_total", Help: "Subscribers dropped for not keeping up.",
		}),
	}
	reg.MustRegister(r.connections, r.subscriptions, r.delivered, r.dropped)
	return r
}

// WebSocketConnections records the number of open WebSocket connections.
func (m *Metrics) WebSocketConnections(n int) { m.realtime.connections.Set(float64(n)) }

// Subscriptions records the number of active subscriptions.
func (m *Metrics) Subscriptions(n int) { m.realtime.subscriptions.Set(float64(n)) }

// SubscriptionEvent records an event sent to a subscriber.
func (m *Metrics) SubscriptionEvent() { m.realtime.delivered.Inc() }

// SubscriptionDropped records a subscriber dropped as too slow.
func (m *Metrics) SubscriptionDropped() { m.realtime.dropped.Inc() }
