package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/rs/cors"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/respcache"
)

// Stack is the gateway's HTTP layers, in the one order they are stacked:
// the only place that order is written. Outermost first, every request
// passes
//
//  1. the server span (otelhttp, continuing a client's traceparent),
//  2. Observe (request id, access log, panics, metrics),
//  3. CORS (when origins are allowed),
//  4. Compress (when on),
//  5. CleanPath,
//  6. Limits (URL query and body size; the body is read here, once),
//  7. Deadline,
//
// then the route table, and on each route
//
//  8. Route (its name, for logs, metrics and the span),
//  9. Caller on the doors' routes (identity, client awareness, the
//     request budget; refused in the door's own form),
//  10. the response cache on the doors' routes (whole answers of reads,
//     kept per caller when private: so after Caller),
//  11. httpcache.Handler on cacheable routes (Cache-Control, ETag, 304,
//     stale marks from Track),
//  12. Request (the service's per-request loaders).
//
// Compress sits inside Observe, which logs the status it wrote, and
// outside httpcache, whose ETag is of the identity body (made weak for
// requests Compress may code). CORS answers preflights before the
// coder, with no body to code; every answer below, the error answers of
// CleanPath and Limits included, is coded alike. Deadline bounds the
// handler's work, not the coder's last bytes, written as the handler
// returns.
//
// A front door adds its own rules inside its handler (GraphQL's CSRF
// check, REST's JSON-only POST).
type Stack struct {
	Log    *slog.Logger
	Record Recorder // per-request metrics; nil records nothing

	RequestTimeout     time.Duration
	MaxBodyBytes       int64
	MaxURLQueryBytes   int
	CORSAllowedOrigins []string // none: no CORS headers
	// Compression codes answers of at least CompressMinBytes for clients
	// that ask (Compress); off leaves every answer as it is.
	Compression      bool
	CompressMinBytes int

	// Caller says who calls the doors and what they may spend; nil:
	// anonymous callers without limits.
	Caller *Caller
	// Responses keeps the doors' whole answers; nil: none are kept.
	Responses *respcache.Cache

	// Request prepares the context of each routed request (the service's
	// per-request loaders); nil leaves it as it is.
	Request func(context.Context) context.Context
	// Track records what a cacheable answer is built from (the entity
	// cache's report); nil when nothing below caches.
	Track httpcache.Tracker
}

// Routes is the route table under a Stack. It is the rest.Mux the REST
// routes register on.
type Routes struct {
	mux   *http.ServeMux
	stack *Stack
}

// Routes returns an empty route table whose routes get the per-route layers.
func (s *Stack) Routes() *Routes { return &Routes{mux: http.NewServeMux(), stack: s} }

// Handle mounts an HTTP-cacheable route without the caller layer: GET
// answers carry Cache-Control and an ETag and answer If-None-Match with 304.
func (rt *Routes) Handle(pattern string, h http.Handler) { rt.mount(pattern, h, true, nil) }

// HandleUncached mounts a route whose answers are not cache-managed
// (probes, metrics, the IDE).
func (rt *Routes) HandleUncached(pattern string, h http.Handler) { rt.mount(pattern, h, false, nil) }

// Door is a front door's view of the route table: its routes are
// cacheable, pass the caller layer, which refuses in the door's form, and
// the response cache, under the door's rules for it. It is the rest.Mux
// the REST routes register on.
func (rt *Routes) Door(refuse Refusals, answers respcache.Door) *DoorRoutes {
	return &DoorRoutes{rt: rt, door: &door{refuse: refuse, answers: answers}}
}

// DoorRoutes mounts a door's routes; see Routes.Door.
type DoorRoutes struct {
	rt   *Routes
	door *door
}

type door struct {
	refuse  Refusals
	answers respcache.Door
}

// Handle mounts one of the door's routes.
func (d *DoorRoutes) Handle(pattern string, h http.Handler) { d.rt.mount(pattern, h, true, d.door) }

func (rt *Routes) mount(pattern string, route http.Handler, cached bool, d *door) {
	h := route
	if prepare := rt.stack.Request; prepare != nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route.ServeHTTP(w, r.WithContext(prepare(r.Context())))
		})
	}
	if cached {
		h = httpcache.Handler(h, rt.stack.Track)
	}
	if d != nil && rt.stack.Responses != nil {
		h = rt.stack.Responses.Handler(h, d.answers)
	}
	if d != nil && rt.stack.Caller != nil {
		h = rt.stack.Caller.layer(d.refuse, h)
	}
	rt.mux.Handle(pattern, Route(pattern, h))
}

// Handler is routes under the stack's outer layers.
func (s *Stack) Handler(routes *Routes) http.Handler {
	var h http.Handler = routes.mux
	h = Deadline(s.RequestTimeout, h)
	h = Limits(s.MaxBodyBytes, s.MaxURLQueryBytes, h)
	h = CleanPath(h)
	if s.Compression {
		h = Compress(s.CompressMinBytes, h)
	}
	if len(s.CORSAllowedOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: s.CORSAllowedOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type", "Authorization", "X-Request-ID", "Idempotency-Key",
				"Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
			ExposedHeaders: []string{"X-Request-ID", "Retry-After", "Idempotent-Replayed"},
			MaxAge:         600,
		}).Handler(h)
	}
	h = Observe(s.Log, s.Record, h)
	return otelhttp.NewHandler(h, "http.server", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method + " " + r.URL.Path // renamed to the route once it is matched
	}))
}
