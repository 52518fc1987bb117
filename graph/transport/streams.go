package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/platform/config"
)

// CodeTooManySubscriptions refuses a subscription past the per-connection limit.
const CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"

// WebSocket close codes the gateway uses besides gqlgen's.
const (
	closeGoingAway    = 1001 // shutting down
	closeTryAgainLate = 1013 // too many connections
)

// Streams holds what the long-lived transports (WebSocket, SSE) share: the
// limits, the open connections, and the context that Close cancels so that
// they end ("going away") at shutdown instead of holding the process.
type Streams struct {
	cfg config.Realtime
	// connections, if set, hears the number of open WebSocket connections.
	connections func(n int)
	ctx         context.Context
	cancel      context.CancelFunc
	conns       atomic.Int64
	shutdown    atomic.Bool
}

// NewStreams returns the streams' shared state under cfg's limits;
// connections, if set, hears the number of open WebSocket connections.
func NewStreams(cfg config.Realtime, connections func(n int)) *Streams {
	if connections == nil {
		connections = func(int) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Streams{cfg: cfg, connections: connections, ctx: ctx, cancel: cancel}
}

// Close ends every stream: WebSocket connections close with 1001 ("going
// away"), so clients reconnect elsewhere. Call it when the drain period is
// over, before the server's Shutdown, which waits for requests but not for
// hijacked connections.
func (s *Streams) Close() {
	s.shutdown.Store(true)
	s.cancel()
}

// WebSocket is gqlgen's WebSocket transport (graphql-transport-ws and the
// legacy subscriptions-transport-ws protocol, by subprotocol), with the
// Origin checked against the CORS allow-list (cross-site WebSocket
// hijacking), keep-alive pings, a message size limit, a connection limit,
// and shutdown.
func (s *Streams) WebSocket(allowedOrigins []string) transport.Websocket {
	accept := coderws.AcceptOptions{}
	if slices.Contains(allowedOrigins, "*") {
		accept.InsecureSkipVerify = true
	} else {
		for _, o := range allowedOrigins {
			// coder/websocket matches hosts; same-origin is always allowed.
			accept.OriginPatterns = append(accept.OriginPatterns, strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://"))
		}
	}
	limit := s.cfg.MaxMessageBytes
	return transport.Websocket{
		Implementation: &wsImplementation{streams: s, inner: transport.CoderWebsocketImplementation{AcceptOptions: accept}},
		// The legacy protocol's "ka" messages, and graphql-transport-ws's
		// ping/pong: a client that stops answering pings is dropped.
		KeepAlivePingInterval: s.cfg.KeepAlive,
		PingPongInterval:      s.cfg.KeepAlive,
		InitTimeout:           10 * time.Second,
		PayloadReadLimit:      &limit,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			// The connection ends with the process: shutdown cancels it.
			ctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(s.ctx, func() {
				cancel()
			})
			context.AfterFunc(ctx, func() { stop() })
			ctx = transport.AppendCloseReason(ctx, "server shutting down")
			return withSubscriptionSlots(ctx, s.cfg.MaxSubscriptions), nil, nil
		},
	}
}

// wsImplementation counts connections, refuses those past the limit with
// 1013, and turns gqlgen's closing of connections at shutdown into 1001.
type wsImplementation struct {
	streams *Streams
	inner   transport.WebsocketImplementation
}

func (w *wsImplementation) Accept(rw http.ResponseWriter, r *http.Request, opt transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	// A stream outlives the server's read and write timeouts.
	rc := http.NewResponseController(rw)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := w.inner.Accept(rw, r, opt)
	if err != nil {
		return nil, err
	}
	n := w.streams.conns.Add(1)
	w.streams.connections(int(n))
	c := &wsConn{WebsocketConn: conn, streams: w.streams}
	if n > int64(w.streams.cfg.MaxConnections) {
		_ = c.WriteClose(closeTryAgainLate, "too many connections; try again later")
		_ = c.Close()
		return nil, fmt.Errorf("websocket: %d connections, the limit is %d", n, w.streams.cfg.MaxConnections)
	}
	return c, nil
}

type wsConn struct {
	transport.WebsocketConn
	streams *Streams
	once    sync.Once
}

// WriteClose implements transport.WebsocketConn: at shutdown a normal
// close is "going away", so clients reconnect elsewhere.
func (c *wsConn) WriteClose(code int, msg string) error {
	if c.streams.shutdown.Load() && code == transport.WebsocketCloseNormalClosure {
		code, msg = closeGoingAway, "server shutting down"
	}
	return c.WebsocketConn.WriteClose(code, msg)
}

// Close implements io.Closer, counting the connection out once.
func (c *wsConn) Close() error {
	c.once.Do(func() { c.streams.connections(int(c.streams.conns.Add(-1))) })
	return c.WebsocketConn.Close()
}

// SetReadLimit passes gqlgen's payload limit to the connection.
func (c *wsConn) SetReadLimit(n int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(n)
	}
}

// SetReadDeadline passes gqlgen's ping-pong deadline to the connection.
func (c *wsConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

type slotsKey struct{}

// withSubscriptionSlots gives a connection its budget of operations at once.
func withSubscriptionSlots(ctx context.Context, n int) context.Context {
	var slots atomic.Int64
	slots.Store(int64(n))
	return context.WithValue(ctx, slotsKey{}, &slots)
}

// EventStream lets an SSE request outlive REQUEST_TIMEOUT and the server's
// write timeout (a subscription lasts as long as its client wants), and
// ends it at shutdown instead of letting it hold the process.
func (s *Streams) EventStream(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stopOnShutdown := context.AfterFunc(s.ctx, cancel)
		defer stopOnShutdown()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// errTooManySubscriptions is what an operation past the limit gets.
var errTooManySubscriptions = errors.New("too many subscriptions on this connection")

// LimitSubscriptions refuses a subscription beyond its connection's budget
// (an error for that operation, coded TOO_MANY_SUBSCRIPTIONS; the
// connection stays) and gives the slot back when the subscription ends.
func LimitSubscriptions(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	slots, ok := ctx.Value(slotsKey{}).(*atomic.Int64)
	if !ok || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	if slots.Add(-1) < 0 {
		slots.Add(1)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    errTooManySubscriptions.Error() + " (the limit is WS_MAX_SUBSCRIPTIONS_PER_CONNECTION)",
			Extensions: map[string]any{"code": CodeTooManySubscriptions},
		}}})
	}
	context.AfterFunc(ctx, func() { slots.Add(1) })
	return next(ctx)
}
