// Package metrics holds the gateway's Prometheus collectors and the hooks
// that feed them; /metrics serves them.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry of the gateway's collectors. Make one per gateway
// (tests make many; a global registry would collide).
type Metrics struct {
	reg *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	gqlOperations *prometheus.CounterVec
	trustedOps    *prometheus.CounterVec
	upCalls       *prometheus.CounterVec
	upDuration    *prometheus.HistogramVec
	upRetries     *prometheus.CounterVec
	upShared      *prometheus.CounterVec
	batchSize     *prometheus.HistogramVec
	breakerState  prometheus.Gauge
	breakerTrans  *prometheus.CounterVec
	cache         *cacheMetrics
	redisErrors   *prometheus.CounterVec
	realtime      *realtimeMetrics
	callers       *callerMetrics
}

// New registers the collectors in a fresh registry, with Go runtime and
// process collectors.
func New() *Metrics {
	latency := []float64{.001, .005, .01, .025, .05, .1, .25, .5, .75, 1, 2.5, 5, 10}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: latency,
		}, []string{"route"}),
		gqlOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_graphql_operations_total", Help: "GraphQL operations by name, type and outcome (ok, partial, error).",
		}, []string{"operation", "type", "outcome"}),
		trustedOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_graphql_trusted_documents_total", Help: "GraphQL operations by trusted-document list status (listed, not_listed, refused) and client name.",
		}, []string{"status", "client"}),
		upCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upstream_calls_total", Help: "Upstream call attempts by route and outcome.",
		}, []string{"route", "outcome"}),
		upDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_upstream_call_duration_seconds", Help: "Upstream call attempt latency by route.", Buckets: latency,
		}, []string{"route"}),
		upRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upstream_retries_total", Help: "Upstream retries by route.",
		}, []string{"route"}),
		upShared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upstream_shared_total", Help: "Callers served by another caller's identical in-flight upstream GET.",
		}, []string{"route"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_loader_batch_size", Help: "Keys per dataloader batch.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}, []string{"loader"}),
		breakerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_circuit_breaker_state", Help: "addEvent circuit breaker state: 0 CLOSED, 1 OPEN, 2 HALF_OPEN.",
		}),
		breakerTrans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_circuit_breaker_transitions_total", Help: "addEvent circuit breaker transitions.",
		}, []string{"from", "to"}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.gqlOperations, m.trustedOps, m.upCalls, m.upDuration,
		m.upRetries, m.upShared, m.batchSize, m.breakerState, m.breakerTrans,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.realtime = newRealtimeMetrics(m.reg)
	m.callers = newCallerMetrics(m.reg)
	return m
}

// Handler serves the metrics in the Prometheus text format, or in
// OpenMetrics (with exemplars) to a scraper that asks for it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// HTTPRequest records one served request; a sampled request's latency
// carries its trace id as an exemplar, so a slow bucket leads to a trace.
func (m *Metrics) HTTPRequest(route, method string, status int, d time.Duration, traceID string) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	obs := m.httpDuration.WithLabelValues(route)
	if eo, ok := obs.(prometheus.ExemplarObserver); ok && traceID != "" {
		eo.ObserveWithExemplar(d.Seconds(), prometheus.Labels{"trace_id": traceID})
		return
	}
	obs.Observe(d.Seconds())
}

// GraphQLOperation records one executed operation.
func (m *Metrics) GraphQLOperation(name, typ, outcome string) {
	if name == "" {
		name = "anonymous"
	}
	m.gqlOperations.WithLabelValues(name, typ, outcome).Inc()
}

// TrustedDocument records an operation's trusted-document status for the
// client named client.
func (m *Metrics) TrustedDocument(status, client string) {
	m.trustedOps.WithLabelValues(status, client).Inc()
}

// UpstreamCall records one upstream attempt.
func (m *Metrics) UpstreamCall(route, outcome string, d time.Duration) {
	m.upCalls.WithLabelValues(route, outcome).Inc()
	m.upDuration.WithLabelValues(route).Observe(d.Seconds())
}

// UpstreamRetry records one retry.
func (m *Metrics) UpstreamRetry(route string) { m.upRetries.WithLabelValues(route).Inc() }

// UpstreamShared records a caller served by a shared in-flight call.
func (m *Metrics) UpstreamShared(route string) { m.upShared.WithLabelValues(route).Inc() }

// LoaderBatch records the size of a dispatched batch.
func (m *Metrics) LoaderBatch(loader string, n int) {
	m.batchSize.WithLabelValues(loader).Observe(float64(n))
}

// BreakerTransition records a circuit breaker transition; to is the new
// state as 0 CLOSED, 1 OPEN, 2 HALF_OPEN.
func (m *Metrics) BreakerTransition(from, to string, toValue int) {
	m.breakerTrans.WithLabelValues(from, to).Inc()
	m.breakerState.Set(float64(toValue))
}
