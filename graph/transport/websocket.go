package transport

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/eventms/gateway/internal/httpjson"
)

// WebSocket close codes the gateway uses besides gqlgen's.
const (
	closeGoingAway    = 1001 // shutting down
	closeTryAgainLate = 1013 // too many connections
	closeForbidden    = 4403 // connection_init refused (authentication)
)

// WebSocket is gqlgen's WebSocket transport (graphql-transport-ws and the
// legacy subscriptions-transport-ws protocol, by subprotocol) with the
// gateway's rules: the Origin allow-listed (cross-site WebSocket
// hijacking), graphql-transport-ws's protocol rules and close codes
// (wsProtocol), keep-alive pings, a message size limit, a connection limit,
// and shutdown.
//
// allowedOrigins are exact origins (scheme, host and port, as a browser
// sends them: the CORS allow-list); "*" allows any. A request without an
// Origin header is not a browser's and is allowed. The Host header is never
// compared: a page on a rebound DNS name sends its own Host.
func (s *Streams) WebSocket(allowedOrigins []string) transport.Websocket {
	limit := s.set.Realtime.MaxMessageBytes
	return transport.Websocket{
		Implementation: &wsImplementation{
			streams: s,
			origins: allowedOrigins,
			// The origin is checked here, before the upgrade, against the
			// exact list; coder/websocket's own check compares hosts only.
			inner: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{InsecureSkipVerify: true}},
		},
		// The legacy protocol's "ka" messages, and graphql-transport-ws's
		// ping/pong: a client that stops answering pings is dropped.
		KeepAlivePingInterval: s.set.Realtime.KeepAlive,
		PingPongInterval:      s.set.Realtime.KeepAlive,
		InitTimeout:           s.set.Realtime.InitTimeout,
		PayloadReadLimit:      &limit,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			conn, _ := s.accepted.LoadAndDelete(ctx)
			if s.set.Init != nil {
				next, expires, err := s.set.Init(ctx, payload)
				if err != nil {
					ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
					return transport.AppendCloseReason(ctx, "Forbidden"), nil, err
				}
				ctx = next
				if c, ok := conn.(*wsConn); ok && !expires.IsZero() {
					stop := s.set.After(time.Until(expires), func() {
						c.closeWith(closeForbidden, "Forbidden: the token expired")
					})
					context.AfterFunc(ctx, func() { stop() })
				}
			}
			// The connection ends with the process: shutdown cancels it.
			ctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(s.ctx, cancel)
			context.AfterFunc(ctx, func() { stop() })
			ctx = transport.AppendCloseReason(ctx, "server shutting down")
			return withOperationSlots(ctx, s.set.Realtime.MaxSubscriptions), nil, nil
		},
	}
}

// originAllowed reports whether a browser page of origin may open a
// WebSocket here.
func originAllowed(origin string, allowed []string) bool {
	if origin == "" || slices.Contains(allowed, "*") {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), u.Scheme+"://"+u.Host) {
			return true
		}
	}
	return false
}

// wsImplementation checks the Origin, counts connections, refuses those past
// the limit with 1013, and wraps each connection in wsConn.
type wsImplementation struct {
	streams *Streams
	origins []string
	inner   transport.WebsocketImplementation
}

func (w *wsImplementation) Accept(rw http.ResponseWriter, r *http.Request, opt transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	if origin := r.Header.Get("Origin"); !originAllowed(origin, w.origins) {
		httpjson.Error(rw, http.StatusForbidden, "Forbidden",
			"Origin: "+echoOrigin(origin)+" may not open a WebSocket here (CORS_ALLOWED_ORIGINS lists the origins that may)")
		return nil, errAnswered
	}
	// A stream outlives the server's read and write timeouts.
	rc := http.NewResponseController(rw)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := w.inner.Accept(rw, r, opt)
	if err != nil {
		return nil, err
	}
	n := w.streams.conns.Add(1)
	w.streams.set.Connections(int(n))
	c := &wsConn{WebsocketConn: conn, streams: w.streams, protocol: newWSProtocol(conn.Subprotocol())}
	// gqlgen hands Init the context it accepted the connection with.
	w.streams.accepted.Store(r.Context(), c)
	context.AfterFunc(r.Context(), func() { w.streams.accepted.Delete(r.Context()) })
	if n > int64(w.streams.set.Realtime.MaxConnections) {
		_ = c.WriteClose(closeTryAgainLate, "too many connections; try again later")
		_ = c.Close()
		return nil, fmt.Errorf("websocket: %d connections, the limit is %d", n, w.streams.set.Realtime.MaxConnections)
	}
	return c, nil
}

// errAnswered tells gqlgen the upgrade failed after the refusal was written
// (it then tries to write its own, which the server ignores).
var errAnswered = fmt.Errorf("websocket: refused")

// echoOrigin shortens an Origin before an error message repeats it.
func echoOrigin(o string) string {
	if len(o) > 100 {
		return fmt.Sprintf("%q…", o[:100])
	}
	return fmt.Sprintf("%q", o)
}

// wsConn is a connection with the gateway's rules: graphql-transport-ws's
// protocol (wsProtocol), 1001 at shutdown, counted out once.
type wsConn struct {
	transport.WebsocketConn
	streams  *Streams
	protocol *wsProtocol // nil for the legacy protocol
	once     sync.Once
	closeMu  sync.Mutex
	closed   bool
}

// WriteClose implements transport.WebsocketConn: at shutdown a normal
// close is "going away", so clients reconnect elsewhere; gqlgen's generic
// protocol errors get graphql-transport-ws's own codes. Only the first
// close is sent.
func (c *wsConn) WriteClose(code int, msg string) error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.streams.shutdown.Load() && code == transport.WebsocketCloseNormalClosure {
		code, msg = closeGoingAway, "server shutting down"
	}
	if c.protocol != nil {
		code, msg = c.protocol.closeCode(code, msg)
	}
	return c.WebsocketConn.WriteClose(code, msg)
}

// closeWith ends the connection from the server's side with code: gqlgen's
// read loop then ends, and with it every operation of the connection.
func (c *wsConn) closeWith(code int, reason string) {
	_ = c.WriteClose(code, reason)
	_ = c.WebsocketConn.Close()
}

// Close implements io.Closer, counting the connection out once.
func (c *wsConn) Close() error {
	c.once.Do(func() { c.streams.set.Connections(int(c.streams.conns.Add(-1))) })
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
