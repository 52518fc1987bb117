package transport_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// rawWS dials a graphql-transport-ws connection without initialising it.
func rawWS(t *testing.T, g *graphtest.Gateway) *coderws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	conn, _, err := coderws.Dial(ctx, strings.Replace(g.URL, "http", "ws", 1)+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

// closeStatus reads until the server closes the connection and returns its code.
func closeStatus(t *testing.T, conn *coderws.Conn) (coderws.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			var ce coderws.CloseError
			if ok := asCloseError(err, &ce); ok {
				return ce.Code, ce.Reason
			}
			t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

func asCloseError(err error, ce *coderws.CloseError) bool {
	code := coderws.CloseStatus(err)
	if code == -1 {
		return false
	}
	*ce = coderws.CloseError{Code: code, Reason: err.Error()}
	return true
}

// graphql-transport-ws's rules and close codes, as the graphql-ws client
// expects them (its PROTOCOL.md): each violation closes the connection with
// its own code.
func TestWebSocketProtocolCloseCodes(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, func(c *config.Config) { c.Realtime.InitTimeout = 50 * time.Millisecond })
	write := func(t *testing.T, conn *coderws.Conn, v any) {
		t.Helper()
		if err := wsjson.Write(context.Background(), conn, v); err != nil {
			t.Fatal(err)
		}
	}
	initialised := func(t *testing.T) *coderws.Conn {
		conn := rawWS(t, g)
		write(t, conn, map[string]any{"type": "connection_init"})
		var ack map[string]any
		if err := wsjson.Read(context.Background(), conn, &ack); err != nil || ack["type"] != "connection_ack" {
			t.Fatalf("%v %v; want connection_ack", ack, err)
		}
		return conn
	}
	subscribe := map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { eventAdded { id } }"}}
	tests := []struct {
		name string
		run  func(t *testing.T) *coderws.Conn
		want coderws.StatusCode
	}{
		{"subscribe before connection_init", func(t *testing.T) *coderws.Conn {
			conn := rawWS(t, g)
			write(t, conn, subscribe)
			return conn
		}, 4401},
		{"no connection_init in time", func(t *testing.T) *coderws.Conn { return rawWS(t, g) }, 4408},
		{"a second connection_init", func(t *testing.T) *coderws.Conn {
			conn := initialised(t)
			write(t, conn, map[string]any{"type": "connection_init"})
			return conn
		}, 4429},
		{"invalid JSON", func(t *testing.T) *coderws.Conn {
			conn := initialised(t)
			_ = conn.Write(context.Background(), coderws.MessageText, []byte("{nope"))
			return conn
		}, 4400},
		{"an unknown message type", func(t *testing.T) *coderws.Conn {
			conn := initialised(t)
			write(t, conn, map[string]any{"type": "hello"})
			return conn
		}, 4400},
		{"a message only the server sends", func(t *testing.T) *coderws.Conn {
			conn := initialised(t)
			write(t, conn, map[string]any{"type": "next", "id": "1"})
			return conn
		}, 4400},
		{"a subscription id already in use", func(t *testing.T) *coderws.Conn {
			conn := initialised(t)
			write(t, conn, subscribe)
			write(t, conn, subscribe)
			return conn
		}, 4409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := tt.run(t)
			if code, reason := closeStatus(t, conn); code != tt.want {
				t.Errorf("closed with %d (%s); want %d", code, reason, tt.want)
			}
		})
	}
}

// An id is free again once its subscription completed: reusing it then is
// no violation.
func TestWebSocketIDIsFreeAfterComplete(t *testing.T) {
	g := realtimeGateway(t, nil)
	c, err := dialWS(t, g, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", `subscription { eventAdded { id } }`)
	testwait.For(t, func() bool { return subscribers(g) == 1 })
	c.send(map[string]any{"id": "1", "type": "complete"})
	testwait.For(t, func() bool { return subscribers(g) == 0 })
	// gqlgen confirms the end with a complete of its own.
	if m := c.read(); m["type"] != "complete" || m["id"] != "1" {
		t.Fatalf("%v; want the subscription's complete", m)
	}
	c.subscribe("1", `{ user(id: "1") { id } }`)
	if m := c.read(); m["type"] != "next" || !strings.Contains(jsonString(m), `"id":"1"`) {
		t.Fatalf("reused id: %v; want its answer", m)
	}
	if m := c.read(); m["type"] != "complete" {
		t.Fatalf("%v; want complete", m)
	}
	// And the query's own complete freed it as well.
	c.subscribe("1", `{ user(id: "2") { id } }`)
	if m := c.read(); m["type"] != "next" {
		t.Fatalf("reused id after a query: %v; want its answer", m)
	}
}

// Every operation on a WebSocket counts against the connection's limit,
// queries too, and queries obey the request deadline.
func TestWebSocketQueriesAreLimitedAndDeadlined(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 5 * time.Second}, func(c *config.Config) {
		c.Realtime.MaxSubscriptions = 2
		c.HTTP.RequestTimeout = 300 * time.Millisecond
	})
	c, err := dialWS(t, g, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		c.subscribe(id, `{ event(id: "event-1") { id } }`)
	}
	var refused, timedOut int
	done := map[string]bool{}
	for len(done) < 4 {
		m := c.read()
		id, _ := m["id"].(string)
		body := jsonString(m)
		switch {
		case strings.Contains(body, `"TOO_MANY_SUBSCRIPTIONS"`):
			refused++
		case strings.Contains(body, `"UPSTREAM_TIMEOUT"`):
			timedOut++
		}
		if m["type"] == "complete" || m["type"] == "error" {
			done[id] = true
		}
	}
	if refused != 2 || timedOut != 2 {
		t.Errorf("%d refused, %d timed out; want 2 refused past the limit of 2 and 2 ended by the deadline", refused, timedOut)
	}
}

// The Origin is compared with an explicit allow-list, scheme and port
// included; the Host header is never trusted for it.
func TestWebSocketOriginAllowList(t *testing.T) {
	g := realtimeGateway(t, func(c *config.Config) { c.HTTP.CORSAllowedOrigins = []string{"https://app.example"} })
	host := strings.TrimPrefix(g.URL, "http://")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://app.example", true},
		{"", true}, // not a browser
		{"http://app.example", false},
		{"https://app.example:8443", false},
		{"https://evil.example", false},
		{"http://" + host, false}, // a rebound DNS name sends the server's own host
		{"null", false},
	}
	for _, tt := range tests {
		header := http.Header{}
		if tt.origin != "" {
			header.Set("Origin", tt.origin)
		}
		_, err := dialWS(t, g, "graphql-transport-ws", header)
		if (err == nil) != tt.ok {
			t.Errorf("Origin %q: err %v; want allowed %v", tt.origin, err, tt.ok)
		}
	}
}

// SSE subscriptions are limited per client, and the stream outlives the
// request deadline (it is a real stream).
func TestSSEStreamsAreLimitedPerClient(t *testing.T) {
	g := realtimeGateway(t, func(c *config.Config) {
		c.Realtime.MaxSSEStreamsPerClient = 2
		c.HTTP.RequestTimeout = 200 * time.Millisecond
	})
	open := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", g.URL+"/graphql", strings.NewReader(servicetest.GraphQLBody(`subscription { eventAdded { id } }`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	first, second := open(), open()
	testwait.For(t, func() bool { return subscribers(g) == 2 })
	third := open()
	if third.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third stream from one client: %d; want 429", third.StatusCode)
	}
	// Both first streams are still open well past the request deadline:
	// an event added now reaches them.
	time.Sleep(400 * time.Millisecond) // the request deadline passes: letting time pass is the point
	added := g.AddEvent(t, map[string]any{"name": "late", "userId": "1"}, nil)
	for _, resp := range []*http.Response{first, second} {
		if !readUntil(t, resp, added.Event.ID) {
			t.Errorf("a stream ended before the event %s arrived", added.Event.ID)
		}
	}
	first.Body.Close()
	testwait.For(t, func() bool { return subscribers(g) == 1 })
	if fourth := open(); fourth.StatusCode != http.StatusOK {
		t.Errorf("a stream after one closed: %d; want 200", fourth.StatusCode)
	}
}

// readUntil reads an SSE stream until a line holds want.
func readUntil(t *testing.T, resp *http.Response, want string) bool {
	t.Helper()
	buf := make([]byte, 4096)
	var seen strings.Builder
	for {
		n, err := resp.Body.Read(buf)
		seen.Write(buf[:n])
		if strings.Contains(seen.String(), want) {
			return true
		}
		if err != nil {
			return false
		}
	}
}
