package eventapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/internal/platform/tracing"
	"github.com/eventms/gateway/internal/upstream/adaptivelimit"
	"github.com/eventms/gateway/internal/upstream/flight"
)

// Upstream route names, used in errors and metrics.
const (
	RouteGetUsers     = "getUsers"
	RouteGetUserByID  = "getUserById"
	RouteGetEvents    = "getEvents"
	RouteGetEventByID = "getEventById"
	RouteAddEvent     = "addEvent"
)

// maxBody bounds what we read of one upstream answer.
const maxBody = 32 << 20

// Hooks lets the caller observe the client (metrics). Nil funcs are skipped.
type Hooks struct {
	// Call runs after every attempt with its outcome: "ok", "not_found",
	// or a Kind's string.
	Call func(route, outcome string, d time.Duration)
	// Retry runs before every retry.
	Retry func(route string)
	// Shared runs when a caller received the result of another caller's
	// identical in-flight GET.
	Shared func(route string)
	// Request, if set, adjusts every attempt's request from the context of
	// the call (forwarding the caller's identity). A call shared by several
	// callers carries the context of the one that started it.
	Request func(ctx context.Context, h http.Header)
}

// Config configures a Client.
type Config struct {
	// BaseURL of the Event API, e.g. http://127.0.0.1:4000.
	BaseURL string
	// Timeout bounds each attempt.
	Timeout time.Duration
	// Retry is the policy for idempotent GETs.
	Retry Retry
	// MaxConcurrency is the ceiling of each route's adaptive limit of
	// calls in flight, and where the limit starts; the connection pool is
	// sized to match.
	MaxConcurrency int
	// MinConcurrency is the floor of each route's limit. Equal to
	// MaxConcurrency, the limit is fixed.
	MinConcurrency int
	// MaxIdleConns bounds the idle connections kept for reuse
	// [DefaultMaxIdleConns].
	MaxIdleConns int
	Hooks        Hooks
}

// Client calls the Event API. It is safe for concurrent use; make one per
// process so that the concurrency bound and the de-duplication are global.
type Client struct {
	base    string
	cfg     Config
	traced  http.RoundTripper                 // otelhttp, for calls under a recorded span
	plain   *http.Transport                   // the same pool, uninstrumented
	limits  map[string]*adaptivelimit.Limiter // by route
	flights flight.Group                      // identical GETs in flight share one call
	writes  atomic.Uint64                     // addEvent calls answered: GETs join only within one count
	root    context.Context
	stop    context.CancelFunc
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("event API base URL %q: want http(s)://host[:port]", cfg.BaseURL)
	}
	if cfg.MinConcurrency == 0 {
		cfg.MinConcurrency = min(DefaultMinConcurrency, cfg.MaxConcurrency)
	}
	if cfg.MinConcurrency < 1 || cfg.MaxConcurrency < cfg.MinConcurrency {
		return nil, fmt.Errorf("event API concurrency %d..%d: want 1 <= min <= max", cfg.MinConcurrency, cfg.MaxConcurrency)
	}
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("event API timeout %s: want a positive duration", cfg.Timeout)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Go keeps 2 idle connections per host by default: under a burst of
	// concurrent lookups every other call would pay a new TCP handshake.
	// Keeping one per slot of the ceiling costs more than it saves: a
	// connection holds two goroutines and 8 KB of buffers, and after one
	// burst at the ceiling (the limit starts there) a thousand of them
	// idled for 90 s, a third of the memory at 256 requests in flight.
	if cfg.MaxIdleConns <= 0 {
		cfg.MaxIdleConns = DefaultMaxIdleConns
	}
	tr.MaxIdleConnsPerHost = cfg.MaxIdleConns
	tr.MaxIdleConns = cfg.MaxIdleConns
	root, stop := context.WithCancel(context.Background())
	c := &Client{
		base: strings.TrimRight(cfg.BaseURL, "/"),
		cfg:  cfg,
		// Recorded calls go through otelhttp: a client span per attempt,
		// and the trace context passed on to the upstream. The rest skip
		// its span and attribute allocations and only pass the context on.
		traced: otelhttp.NewTransport(tr,
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path })),
		plain:  tr,
		limits: make(map[string]*adaptivelimit.Limiter, len(Routes)),
		root:   root,
		stop:   stop,
	}
	for _, r := range Routes {
		c.limits[r] = adaptivelimit.New(adaptivelimit.Config{Min: cfg.MinConcurrency, Max: cfg.MaxConcurrency})
	}
	return c, nil
}

// DefaultMinConcurrency is MinConcurrency's default: a floor low enough
// for a struggling upstream, high enough that a noisy latency sample on a
// busy machine cannot starve the gateway.
const DefaultMinConcurrency = 8

// DefaultMaxIdleConns is MaxIdleConns's default: more than a saturated
// upstream's limit settles at, fewer than a burst of a thousand lookups
// needs (the calls beyond it dial).
const DefaultMaxIdleConns = 128

// Routes are the upstream routes, each with its own concurrency limit.
var Routes = []string{RouteGetUsers, RouteGetUserByID, RouteGetEvents, RouteGetEventByID, RouteAddEvent}

// ConcurrencyLimits returns each route's adaptive limit as it stands.
func (c *Client) ConcurrencyLimits() map[string]adaptivelimit.Snapshot {
	out := make(map[string]adaptivelimit.Snapshot, len(c.limits))
	for r, l := range c.limits {
		out[r] = l.Snapshot()
	}
	return out
}

// Close cancels every call still in flight and releases idle connections.
func (c *Client) Close() {
	c.stop()
	c.plain.CloseIdleConnections()
}

// Users returns every user. The slice is shared with the callers of the
// same call in flight: treat it as read-only.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	return getOne[[]User](c, ctx, RouteGetUsers, "/getUsers")
}

// Events returns every event; the slice is read-only, as Users'.
func (c *Client) Events(ctx context.Context) ([]Event, error) {
	return getOne[[]Event](c, ctx, RouteGetEvents, "/getEvents")
}

// AddEvent stores e upstream. It is called exactly once: the upstream has no
// idempotency, so a blind retry could store the event twice. Only a
// well-formed success ({"success":true}) is a success: a 2xx with any other
// body is KindBadResponse, and {"success":false} is KindUnavailable (the
// upstream says it did not store the event).
func (c *Client) AddEvent(ctx context.Context, e Event) (err error) {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("add event: encode: %w", err)
	}
	ctx, span := tracing.Child(ctx, "eventapi."+RouteAddEvent)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("eventapi.route", RouteAddEvent))
	}
	defer func() { endSpan(span, err) }()
	answer, err := c.attempt(ctx, http.MethodPost, RouteAddEvent, "/addEvent", body, nil)
	// Whatever the answer, the upstream may hold the event now: GETs from
	// now on must not join one that started before (getAll).
	c.writes.Add(1)
	if err != nil {
		return c.finalError(ctx, RouteAddEvent, err, 1)
	}
	err = addEventOutcome(answer)
	return err
}

// addEventOutcome checks the body of a 2xx answer to addEvent.
func addEventOutcome(body []byte) error {
	var ans struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	bad := func(why string) error {
		return &Error{Route: RouteAddEvent, Kind: KindBadResponse, Status: http.StatusOK, Attempts: 1, Err: errors.New(why)}
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0 || trimmed[0] != '{':
		return bad("answer is not a JSON object")
	case json.Unmarshal(trimmed, &ans) != nil:
		return bad("answer is not the contract's {\"success\":bool} object")
	case ans.Success == nil:
		return bad("answer has no success field")
	case !*ans.Success:
		return &Error{Route: RouteAddEvent, Kind: KindUnavailable, Status: http.StatusOK, Attempts: 1,
			Err: upstreamMessage(body)}
	}
	return nil
}

// maxRetriesKey carries a smaller retry budget for the calls made under a context.
type maxRetriesKey struct{}

// WithMaxRetries returns ctx under which idempotent GETs retry at most n
// times, if n is below the client's own budget. Writes use it for the reads
// they depend on, which must leave the write time to happen. A GET under
// it shares a call in flight only with GETs under the same budget.
func WithMaxRetries(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, maxRetriesKey{}, max(n, 0))
}

// shareScopeKey carries the scope WithShareScope gives the calls made under
// a context.
type shareScopeKey struct{}

// WithShareScope returns ctx under which a GET shares a call in flight
// only with identical GETs made under the same scope. A cache above the
// client passes what it has seen written (its write epoch), so that a read
// after a write, even one the client did not make (another replica's),
// never joins a GET that started before it.
func WithShareScope(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, shareScopeKey{}, scope)
}

// ShareKey is what ctx adds to the identity of the GETs made under it: its
// retry budget (WithMaxRetries) and its share scope (WithShareScope); ""
// for neither. GETs under contexts with different keys never share a call.
// A layer that joins calls of its own above the client (the entity cache's
// fills) adds it to its own keys, so that it never joins what the client
// keeps apart.
func ShareKey(ctx context.Context) string {
	var k string
	if n, ok := ctx.Value(maxRetriesKey{}).(int); ok {
		k = "\x00retries=" + strconv.Itoa(n)
	}
	if scope, ok := ctx.Value(shareScopeKey{}).(string); ok {
		k += "\x00scope=" + scope
	}
	return k
}

// getWithRetry is one upstream call: a span, whose attempts are the HTTP
// client spans under it and whose retries are events on it.
// Its first attempt uses held, a slot the caller already took, if not nil.
func (c *Client) getWithRetry(ctx context.Context, route, path string, maxRetries int, held *adaptivelimit.Permit) (_ []byte, err error) {
	ctx, span := tracing.Child(ctx, "eventapi."+route)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("eventapi.route", route))
	}
	defer func() { endSpan(span, err) }()
	for n := 0; ; n++ {
		body, err := c.attempt(ctx, http.MethodGet, route, path, nil, held)
		held = nil
		if err == nil {
			if span.IsRecording() {
				span.SetAttributes(attribute.Int("eventapi.attempts", n+1))
			}
			return body, nil
		}
		var ae *attemptError
		retryable := errors.As(err, &ae) && ae.retryable() && ctx.Err() == nil
		if !retryable || n >= maxRetries {
			if span.IsRecording() {
				span.SetAttributes(attribute.Int("eventapi.attempts", n+1))
			}
			return nil, c.finalError(ctx, route, err, n+1)
		}
		if c.cfg.Hooks.Retry != nil {
			c.cfg.Hooks.Retry(route)
		}
		wait := c.cfg.Retry.backoff(n)
		if span.IsRecording() {
			span.AddEvent("retry", trace.WithAttributes(attribute.Int("eventapi.attempt", n+1),
				attribute.String("eventapi.failure", ae.kind.String()), attribute.Int64("eventapi.backoff_ms", wait.Milliseconds())))
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, c.finalError(ctx, route, err, n+1)
		}
	}
}

// endSpan records how a call ended; not-found is an answer, not an error.
func endSpan(span trace.Span, err error) {
	if err != nil && !errors.Is(err, ErrNotFound) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// attemptError is one failed attempt, before the retry decision.
type attemptError struct {
	kind       Kind
	status     int
	retryAfter time.Duration
	err        error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }
func (e *attemptError) retryable() bool {
	return e.kind == KindUnavailable || e.kind == KindTimeout
}

// attempt makes one upstream call under the route's concurrency limit and
// the per-attempt timeout, and returns the body of a 2xx answer; what the
// call says about the upstream's load goes to the limit. held is a slot the
// caller already took, or nil.
func (c *Client) attempt(ctx context.Context, method, route, path string, body []byte, held *adaptivelimit.Permit) (_ []byte, err error) {
	var permit adaptivelimit.Permit
	if held != nil {
		permit = *held
	} else if permit, err = c.limits[route].Acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { permit.Done(loadOutcome(ctx, err)) }()
	return c.do(ctx, method, route, path, body)
}

// loadOutcome is what an attempt's result says about the upstream's load:
// 429, 503, a dropped connection and no answer in time are refusals; any
// other answer, errors included, is a latency sample; the caller leaving
// says nothing.
func loadOutcome(ctx context.Context, err error) adaptivelimit.Outcome {
	var ae *attemptError
	switch {
	case err == nil || errors.Is(err, ErrNotFound):
		return adaptivelimit.Answered
	case ctx.Err() != nil || !errors.As(err, &ae):
		return adaptivelimit.Ignore
	case ae.kind == KindTimeout, ae.status == http.StatusTooManyRequests, ae.status == http.StatusServiceUnavailable,
		ae.kind == KindUnavailable && ae.status == 0:
		return adaptivelimit.Overloaded
	case ae.status != 0:
		return adaptivelimit.Answered
	}
	return adaptivelimit.Ignore
}

// do is one HTTP exchange with the upstream.
func (c *Client) do(ctx context.Context, method, route, path string, body []byte) (_ []byte, err error) {
	start := time.Now()
	defer func() { c.observe(route, err, time.Since(start)) }()

	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader // nil for a GET: a reader, even empty, costs three allocations
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, c.base+path, rd)
	if err != nil {
		return nil, &attemptError{kind: KindRejected, err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.Hooks.Request != nil {
		c.cfg.Hooks.Request(ctx, req.Header)
	}
	rt := c.traced
	if !trace.SpanFromContext(ctx).IsRecording() {
		rt = c.plain
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	// The transport, not an http.Client: the client copies every request's
	// headers for its redirect handling, a tenth of an upstream call's
	// allocations, and the Event API has no redirects to follow (a 3xx is
	// KindRejected).
	resp, err := rt.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if actx.Err() != nil {
			return nil, &attemptError{kind: KindTimeout, err: fmt.Errorf("no answer within %s", c.cfg.Timeout)}
		}
		// Worded as an http.Client would: `Get "url": dial tcp …`.
		op := method[:1] + strings.ToLower(method[1:])
		return nil, &attemptError{kind: KindUnavailable, err: &url.Error{Op: op, URL: req.URL.Redacted(), Err: err}}
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	switch {
	case err != nil && actx.Err() != nil && ctx.Err() == nil:
		return nil, &attemptError{kind: KindTimeout, status: resp.StatusCode, err: fmt.Errorf("body not read within %s", c.cfg.Timeout)}
	case err != nil:
		return nil, &attemptError{kind: KindUnavailable, status: resp.StatusCode, err: fmt.Errorf("read body: %w", err)}
	case len(data) > maxBody:
		return nil, &attemptError{kind: KindBadResponse, status: resp.StatusCode, err: fmt.Errorf("body larger than %d bytes", maxBody)}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && method == http.MethodGet:
		return nil, ErrNotFound
	case resp.StatusCode >= 500:
		return nil, &attemptError{kind: KindUnavailable, status: resp.StatusCode,
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), err: upstreamMessage(data)}
	case resp.StatusCode >= 300:
		return nil, &attemptError{kind: KindRejected, status: resp.StatusCode, err: upstreamMessage(data)}
	}
	return data, nil
}

// readBody reads at most maxBody+1 bytes of resp's body, in one allocation
// when its length is announced.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxBody {
		data := make([]byte, n)
		// The read that fills data also sees the body's end, so the
		// connection goes back to the pool.
		_, err := io.ReadFull(resp.Body, data)
		return data, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
}

func (c *Client) observe(route string, err error, d time.Duration) {
	if c.cfg.Hooks.Call == nil {
		return
	}
	outcome := "ok"
	var ae *attemptError
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		outcome = "not_found"
	case errors.As(err, &ae):
		outcome = strings.ReplaceAll(ae.kind.String(), " ", "_")
	default:
		outcome = "canceled"
	}
	c.cfg.Hooks.Call(route, outcome, d)
}

// finalError turns the last attempt's error into what callers see: a typed
// *Error for upstream failures, ErrNotFound as is, and the caller's own
// cancellation as context.Canceled (it is nobody's failure).
func (c *Client) finalError(ctx context.Context, route string, err error, attempts int) error {
	var ae *attemptError
	switch {
	case errors.Is(err, ErrNotFound):
		return err
	case errors.As(err, &ae):
		return &Error{Route: route, Kind: ae.kind, Status: ae.status, RetryAfter: ae.retryAfter, Attempts: attempts, Err: ae.err}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Route: route, Kind: KindTimeout, Attempts: attempts, Err: context.DeadlineExceeded}
	default:
		return fmt.Errorf("event API %s: %w", route, err)
	}
}

// upstreamMessage extracts the upstream's JSON message or error, if any.
func upstreamMessage(body []byte) error {
	var m struct{ Error, Message string }
	if json.Unmarshal(body, &m) == nil {
		if m.Message != "" {
			return errors.New(m.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
	return errors.New("no error message")
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Ping reports whether the upstream answers HTTP at all: one attempt, no
// retry, no de-duplication. Any HTTP status counts as reachable.
func (c *Client) Ping(ctx context.Context) error {
	// Outside the limits: a probe must not queue behind a burst, nor teach
	// the limit anything.
	_, err := c.do(ctx, http.MethodGet, RouteGetUserByID, "/getUserById/__readyz__", nil)
	var ae *attemptError
	if err == nil || errors.Is(err, ErrNotFound) || (errors.As(err, &ae) && ae.status != 0) {
		return nil
	}
	return c.finalError(ctx, RouteGetUserByID, err, 1)
}
