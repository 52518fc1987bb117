// Package middleware holds the HTTP layers every request passes through:
// request ids, access logs and panic recovery, metrics, limits, CSRF
// prevention and the per-request deadline.
package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/internal/httpjson"
	"github.com/eventms/gateway/internal/platform/logging"
)

// Info is what inner layers tell the access log about a request.
type Info struct {
	Route string

	mu        sync.Mutex
	operation string
	user      string
	client    string
	version   string
}

func (i *Info) setUser(id string) {
	i.mu.Lock()
	i.user = id
	i.mu.Unlock()
}

func (i *Info) setClient(name, version string) {
	i.mu.Lock()
	i.client, i.version = name, version
	i.mu.Unlock()
}

// logAttrs are what the access log says of the caller and the operation.
func (i *Info) logAttrs() []any {
	i.mu.Lock()
	defer i.mu.Unlock()
	var attrs []any
	if i.operation != "" {
		attrs = append(attrs, "operation", i.operation)
	}
	if i.user != "" {
		attrs = append(attrs, "enduser_id", i.user)
	}
	if i.client != "" {
		attrs = append(attrs, "client", i.client, "client_version", i.version)
	}
	return attrs
}

// SetOperation names the GraphQL operation the request ran. It is safe to
// call from any goroutine (a WebSocket's operations run on their own).
func (i *Info) SetOperation(name string) {
	i.mu.Lock()
	i.operation = name
	i.mu.Unlock()
}

// Operation is the name SetOperation gave, or "".
func (i *Info) Operation() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.operation
}

type infoKey struct{}

// InfoFrom returns the request's Info, or a throwaway one outside Observe.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// Recorder receives one observation per served request (metrics); traceID
// is the request's trace, or "" when it is not sampled.
type Recorder func(route, method string, status int, d time.Duration, traceID string)

// Observe is the outermost layer: it takes the caller's X-Request-ID (or
// makes one) and echoes it, recovers panics into a 500, and writes one access
// line per request.
func Observe(log *slog.Logger, record Recorder, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		// The trace a frontend can quote (set when tracing samples it).
		traceID := ""
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsSampled() {
			traceID = sc.TraceID().String()
			w.Header().Set("X-Trace-ID", traceID)
		}
		info := &Info{Route: "unmatched"}
		ctx := context.WithValue(logging.WithRequestID(r.Context(), id), infoKey{}, info)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
					panic(p)
				}
				log.ErrorContext(ctx, "panic serving request", "panic", p, "route", info.Route, "stack", string(debug.Stack()))
				if !sw.wrote {
					httpjson.Write(sw, http.StatusInternalServerError,
						httpjson.ErrorBody{Error: "Internal server error", RequestID: id})
				}
			}
			d := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			if record != nil {
				record(info.Route, r.Method, status, d, traceID)
			}
			attrs := []any{"method", r.Method, "route", info.Route, "status", status, "duration_ms", float64(d.Microseconds()) / 1000}
			attrs = append(attrs, info.logAttrs()...)
			log.InfoContext(ctx, "request", attrs...)
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// Route names the route a handler serves, for logs, metrics and the
// request's server span.
func Route(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		InfoFrom(r.Context()).Route = pattern
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(r.Method + " " + pathOf(pattern))
			span.SetAttributes(attribute.String("http.route", pathOf(pattern)))
		}
		next.ServeHTTP(w, r)
	})
}

// pathOf is a route pattern without its method ("GET /x" → "/x").
func pathOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// validRequestID accepts caller ids that are safe to echo and log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes through, for streamed answers (multipart/mixed, SSE).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if !w.wrote {
			w.status, w.wrote = http.StatusOK, true
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
