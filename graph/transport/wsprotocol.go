package transport

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// graphql-transport-ws close codes (graphql-ws's PROTOCOL.md).
const (
	closeBadRequest          = 4400 // invalid JSON, an unknown or out-of-place message type
	closeUnauthorized        = 4401 // subscribe before connection_init
	closeInitTimeout         = 4408 // no connection_init within the init timeout
	closeSubscriberExists    = 4409 // subscribe with an id already in use
	closeTooManyInitRequests = 4429 // a second connection_init
)

// wsProtocol holds a graphql-transport-ws connection to its protocol's
// rules, which gqlgen (v0.17.98) does not all enforce: it closes every
// violation with 1002 and accepts a subscribe whose id is in use, running
// both (each event then arrives twice, and one copy outlives its complete).
// The rules are checked on each message before gqlgen reads it; ids are
// freed by the client's complete and by the server's complete or error.
type wsProtocol struct {
	mu     sync.Mutex
	inited bool
	active map[string]bool
}

// newWSProtocol returns the rules of subprotocol, or nil for the legacy
// subscriptions-transport-ws protocol, whose close codes gqlgen keeps.
func newWSProtocol(subprotocol string) *wsProtocol {
	if subprotocol != "graphql-transport-ws" {
		return nil
	}
	return &wsProtocol{active: map[string]bool{}}
}

// received checks a message from the client; a non-zero code closes the
// connection with reason.
func (p *wsProtocol) received(b []byte) (code int, reason string) {
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return closeBadRequest, "Invalid message received"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch m.Type {
	case "connection_init":
		if p.inited {
			return closeTooManyInitRequests, "Too many initialisation requests"
		}
		p.inited = true
	case "subscribe":
		switch {
		case !p.inited:
			return closeUnauthorized, "Unauthorized"
		case m.ID == "":
			return closeBadRequest, "Invalid message received: subscribe without an id"
		case p.active[m.ID]:
			return closeSubscriberExists, "Subscriber for " + truncate(m.ID, 64) + " already exists"
		}
		p.active[m.ID] = true
	case "complete":
		delete(p.active, m.ID)
	case "ping", "pong":
	default:
		return closeBadRequest, "Invalid message received"
	}
	return 0, ""
}

// sent notes a message gqlgen sends: its complete or error ends an id.
func (p *wsProtocol) sent(v any) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return
	}
	typ, id := rv.FieldByName("Type"), rv.FieldByName("ID")
	if !typ.IsValid() || !id.IsValid() || typ.Kind() != reflect.String || id.Kind() != reflect.String {
		return
	}
	if t := typ.String(); t == "complete" || t == "error" {
		p.mu.Lock()
		delete(p.active, id.String())
		p.mu.Unlock()
	}
}

// closeCode gives gqlgen's generic protocol-error closes their
// graphql-transport-ws codes.
func (p *wsProtocol) closeCode(code int, reason string) (int, string) {
	if code != transport.WebsocketCloseProtocolError {
		return code, reason
	}
	if reason == "connection initialisation timeout" {
		return closeInitTimeout, "Connection initialisation timeout"
	}
	return closeBadRequest, "Invalid message received"
}

// NextReader implements transport.WebsocketConn: with graphql-transport-ws
// each message is held to the protocol before gqlgen reads it.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, r, err := c.WebsocketConn.NextReader()
	if err != nil || c.protocol == nil {
		return typ, r, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return typ, nil, err
	}
	if code, reason := c.protocol.received(b); code != 0 {
		_ = c.WriteClose(code, reason)
		return typ, nil, net.ErrClosed // gqlgen ends the connection without a word of its own
	}
	return typ, bytes.NewReader(b), nil
}

// WriteJSON implements transport.WebsocketConn, noting what ends an id.
func (c *wsConn) WriteJSON(v any) error {
	if c.protocol != nil {
		c.protocol.sent(v)
	}
	return c.WebsocketConn.WriteJSON(v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
