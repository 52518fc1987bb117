package transport

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/eventms/gateway/internal/platform/config"
)

// Error codes of the stream limits.
const (
	// CodeTooManySubscriptions refuses an operation past the per-connection
	// limit of a WebSocket (the name is kept from when it counted
	// subscriptions only; it counts every operation).
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"
	// CodeTooManyStreams refuses an SSE stream past the per-process or
	// per-client limit.
	CodeTooManyStreams = "TOO_MANY_STREAMS"
	// CodeRequestTimeout ends an answer in parts whose request deadline
	// passed before its last part was ready.
	CodeRequestTimeout = "REQUEST_TIMEOUT"
)

// StreamSettings are the limits of the long-lived transports; zero values
// take the defaults in brackets.
//
//	Realtime        the WebSocket and SSE limits (config.Realtime)
//	RequestTimeout  [20s] deadline of a query or mutation sent over a WebSocket
//	ClientKey       [the peer's IP] who an SSE stream belongs to, for the per-client limit
//	Init            [none] checks a WebSocket's connection_init payload (authentication)
//	After           [time.AfterFunc] schedules the close of a connection whose credentials expire
//	Heartbeat       [5s] how often a multipart subscription sends its empty heartbeat part
type StreamSettings struct {
	Realtime       config.Realtime
	RequestTimeout time.Duration
	ClientKey      func(r *http.Request) string
	// Init runs on connection_init with its payload. An error closes the
	// connection with 4403; a non-zero expiry closes it with 4403 then
	// (the caller's token expired), ending its subscriptions.
	Init func(ctx context.Context, payload transport.InitPayload) (ctx2 context.Context, expires time.Time, err error)
	// After runs f after d and returns a func that stops it.
	After func(d time.Duration, f func()) (stop func() bool)
	// Heartbeat is the period of a multipart subscription's heartbeats.
	Heartbeat time.Duration
	// Connections, if set, hears the number of open WebSocket connections.
	Connections func(n int)
}

// Streams holds what the long-lived transports (WebSocket, SSE, answers in
// parts) share: the limits, the open connections and streams, and the
// context that Close cancels so that they end ("going away") at shutdown
// instead of holding the process.
type Streams struct {
	set      StreamSettings
	ctx      context.Context
	cancel   context.CancelFunc
	conns    atomic.Int64
	shutdown atomic.Bool

	// accepted holds each connection from its upgrade until its
	// connection_init, keyed by the context gqlgen gives both, so that
	// Init can schedule the connection's close.
	accepted sync.Map

	sseMu     sync.Mutex
	sse       int            // open SSE streams
	sseByPeer map[string]int // open SSE streams per client

	// drains are the executions of answers in parts whose client left or
	// whose deadline passed: they run until their last part, unread.
	drains sync.WaitGroup
}

// NewStreams returns the streams' shared state.
func NewStreams(set StreamSettings) *Streams {
	if set.Connections == nil {
		set.Connections = func(int) {}
	}
	if set.RequestTimeout <= 0 {
		set.RequestTimeout = 20 * time.Second
	}
	if set.ClientKey == nil {
		set.ClientKey = peerIP
	}
	if set.Heartbeat <= 0 {
		set.Heartbeat = heartbeat
	}
	if set.After == nil {
		set.After = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Streams{set: set, ctx: ctx, cancel: cancel, sseByPeer: map[string]int{}}
}

// Close ends every stream: WebSocket connections close with 1001 ("going
// away"), so clients reconnect elsewhere, and SSE streams end. Call it when
// the drain period is over, before the server's Shutdown, which waits for
// requests but not for hijacked connections. Wait waits for what is left.
func (s *Streams) Close() {
	s.shutdown.Store(true)
	s.cancel()
}

// Wait waits for the executions of answers in parts that nobody reads any
// more to end (each is bounded by the upstream calls' own timeouts).
func (s *Streams) Wait() { s.drains.Wait() }

// peerIP is the request's direct peer, without its port.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
