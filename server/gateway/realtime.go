package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventfeed"
	"github.com/eventms/gateway/internal/metrics"
)

// CodeTooManySubscriptions refuses a subscription past the per-connection limit.
const CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"

// WebSocket close codes the gateway uses besides gqlgen's.
const (
	closeGoingAway    = 1001 // shutting down
	closeTryAgainLate = 1013 // too many connections
)

// streams holds what the long-lived transports (WebSocket, SSE) share: the
// limits, the open connections, and the context that shutdown cancels so
// that they end ("going away") instead of holding the process.
type streams struct {
	cfg      config.Realtime
	m        *metrics.Metrics
	ctx      context.Context
	cancel   context.CancelFunc
	conns    atomic.Int64
	shutdown atomic.Bool
	wg       sync.WaitGroup // the poller
}

func newStreams(cfg config.Realtime, m *metrics.Metrics) *streams {
	ctx, cancel := context.WithCancel(context.Background())
	return &streams{cfg: cfg, m: m, ctx: ctx, cancel: cancel}
}

// startFeed starts the added-events feed and, on its own goroutine until
// shutdown, the poller that finds events other clients added upstream.
func startFeed(cfg config.Realtime, fl *fleet, api *eventapi.Client, st *streams, m *metrics.Metrics, log *slog.Logger) (*eventfeed.Feed, error) {
	bus, lease := fl.feedBus()
	feed := eventfeed.New(bus, cfg.Buffer, eventfeed.Hooks{
		Subscribers: m.Subscriptions, Delivered: m.SubscriptionEvent, Dropped: m.SubscriptionDropped,
	})
	if err := feed.Start(st.ctx); err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	p := &eventfeed.Poller{Feed: feed, List: api.Events, Interval: cfg.PollInterval, Lease: lease,
		OnError: func(err error) { log.Debug("polling the upstream for added events failed", "err", err) }}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		p.Run(st.ctx)
	}()
	context.AfterFunc(st.ctx, feed.Close)
	return feed, nil
}

// close ends every stream: WebSocket connections close with 1001.
func (s *streams) close() {
	s.shutdown.Store(true)
	s.cancel()
}

// websocket is gqlgen's WebSocket transport (graphql-transport-ws and the
// legacy subscriptions-transport-ws protocol, by subprotocol), with the
// Origin checked against the CORS allow-list (cross-site WebSocket
// hijacking), keep-alive pings, a message size limit, a connection limit,
// and shutdown.
func (s *streams) websocket(allowedOrigins []string) transport.Websocket {
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
	streams *streams
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
	w.streams.m.WebSocketConnections(int(n))
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
	streams *streams
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
	c.once.Do(func() { c.streams.m.WebSocketConnections(int(c.streams.conns.Add(-1))) })
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

// eventStream lets an SSE request outlive REQUEST_TIMEOUT and the server's
// write timeout (a subscription lasts as long as its client wants), and
// ends it at shutdown instead of letting it hold the process.
func (s *streams) eventStream(next http.Handler) http.Handler {
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

// limitSubscriptions refuses a subscription beyond its connection's budget
// (an error for that operation, coded TOO_MANY_SUBSCRIPTIONS; the
// connection stays) and gives the slot back when the subscription ends.
func limitSubscriptions(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
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
