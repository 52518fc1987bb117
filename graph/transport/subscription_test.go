package transport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/coder/websocket/wsjson"
	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/testwait"
)

// wsClient speaks one of the two WebSocket protocols to the gateway.
type wsClient struct {
	t     *testing.T
	conn  *coderws.Conn
	proto string
}

func dialWS(t *testing.T, g *graphtest.Gateway, proto string, header http.Header) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := coderws.Dial(ctx, strings.Replace(g.URL, "http", "ws", 1)+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{proto}, HTTPHeader: header})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn, proto: proto}
	c.send(map[string]any{"type": "connection_init"})
	if m := c.read(); m["type"] != "connection_ack" {
		t.Fatalf("%s: %v; want connection_ack", proto, m)
	}
	return c, nil
}

// read returns the next message that is not a keep-alive.
func (c *wsClient) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, v); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message that is not a keep-alive.
func (c *wsClient) read() map[string]any {
	c.t.Helper()
	for {
		m, err := c.tryRead()
		if err != nil {
			c.t.Fatal(err)
		}
		if m["type"] != "ka" && m["type"] != "ping" && m["type"] != "pong" {
			return m
		}
	}
}

func (c *wsClient) tryRead() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m map[string]any
	err := wsjson.Read(ctx, c.conn, &m)
	return m, err
}

func (c *wsClient) subscribe(id, query string) {
	typ := "subscribe"
	if c.proto == "graphql-ws" { // the legacy subscriptions-transport-ws protocol
		typ = "start"
	}
	c.send(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query}})
}

func realtimeGateway(t *testing.T, mod func(*config.Config)) *graphtest.Gateway {
	return graphtest.New(t, eventsim.Config{}, func(c *config.Config) {
		c.Realtime.PollInterval = 10 * time.Millisecond
		if mod != nil {
			mod(c)
		}
	})
}

func TestEventAddedOverBothWebSocketProtocols(t *testing.T) {
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			g := realtimeGateway(t, nil)
			c, err := dialWS(t, g, proto, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.subscribe("1", `subscription { eventAdded(userId: "2") { id name userId } }`)
			// Wait until the subscription is live: the feed counts it.
			testwait.For(t, func() bool { return subscribers(g) == 1 })
			g.AddEvent(t, map[string]any{"name": "Not for 2", "userId": "1"}, nil)
			added := g.AddEvent(t, map[string]any{"name": "For 2", "userId": "2"}, nil)
			m := c.read()
			want := map[string]string{"graphql-transport-ws": "next", "graphql-ws": "data"}[proto]
			if m["type"] != want || !strings.Contains(jsonString(m), added.Event.ID) || strings.Contains(jsonString(m), "Not for 2") {
				t.Errorf("got %v; want %s with %s only", m, want, added.Event.ID)
			}
		})
	}
}

func TestEventsAddedByOtherClientsArePolled(t *testing.T) {
	g := realtimeGateway(t, nil)
	c, err := dialWS(t, g, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", `subscription { eventAdded { id name } }`)
	testwait.For(t, func() bool { return subscribers(g) == 1 })
	testwait.For(t, func() bool { return g.Sim.Count(eventsim.RouteGetEvents) >= 2 }) // the baseline is taken
	// Another client writes to the upstream directly.
	resp, err := http.Post(g.SimURL+"/addEvent", "application/json", strings.NewReader(`{"id":"elsewhere-1","name":"Elsewhere","userId":"3"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if m := c.read(); m["type"] != "next" || !strings.Contains(jsonString(m), "elsewhere-1") {
		t.Errorf("got %v; want the event added elsewhere", m)
	}
}

func TestEventAddedOverSSE(t *testing.T) {
	g := realtimeGateway(t, nil)
	req, _ := http.NewRequest("POST", g.URL+"/graphql", strings.NewReader(`{"query":"subscription { eventAdded { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	testwait.For(t, func() bool { return subscribers(g) == 1 })
	added := g.AddEvent(t, map[string]any{"name": "Pushed", "userId": "1"}, nil)
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "data:") && strings.Contains(lines.Text(), added.Event.ID) {
			return
		}
	}
	t.Errorf("the SSE stream ended without %s: %v", added.Event.ID, lines.Err())
}

func TestWebSocketOriginIsChecked(t *testing.T) {
	g := realtimeGateway(t, func(c *config.Config) { c.HTTP.CORSAllowedOrigins = []string{"https://app.example"} })
	if _, err := dialWS(t, g, "graphql-transport-ws", http.Header{"Origin": {"https://evil.example"}}); err == nil {
		t.Error("a cross-site origin opened a WebSocket")
	}
	if _, err := dialWS(t, g, "graphql-transport-ws", http.Header{"Origin": {"https://app.example"}}); err != nil {
		t.Errorf("an allowed origin was refused: %v", err)
	}
}

func TestWebSocketLimits(t *testing.T) {
	g := realtimeGateway(t, func(c *config.Config) {
		c.Realtime.MaxConnections = 1
		c.Realtime.MaxSubscriptions = 1
		c.Realtime.MaxMessageBytes = 1024
	})
	c, err := dialWS(t, g, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", `subscription { eventAdded { id } }`)
	c.subscribe("2", `subscription { eventAdded { id } }`)
	// One of the two (the transport takes them concurrently) is refused
	// with a coded error; the connection stays.
	if m := c.read(); !strings.Contains(jsonString(m), `"code":"TOO_MANY_SUBSCRIPTIONS"`) {
		t.Errorf("second subscription: %v; want an error coded TOO_MANY_SUBSCRIPTIONS", m)
	}
	// A second connection is closed with 1013.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	second, _, err := coderws.Dial(ctx, strings.Replace(g.URL, "http", "ws", 1)+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err == nil {
		_, _, err = second.Read(ctx)
	}
	if coderws.CloseStatus(err) != 1013 {
		t.Errorf("connection past the limit: %v; want closed with 1013", err)
	}
	// A message over the size limit closes the connection with 1009.
	c.send(map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"query": strings.Repeat(" ", 2048) + "{ users { id } }"}})
	_, err = c.tryRead()
	for err == nil {
		_, err = c.tryRead()
	}
	if coderws.CloseStatus(err) != coderws.StatusMessageTooBig {
		t.Errorf("oversize message: %v; want closed with 1009", err)
	}
}

func TestShutdownClosesWebSocketsGoingAway(t *testing.T) {
	g := realtimeGateway(t, nil)
	c, err := dialWS(t, g, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", `subscription { eventAdded { id } }`)
	testwait.For(t, func() bool { return subscribers(g) == 1 })
	g.EndStreams()
	_, err = c.tryRead()
	for err == nil {
		_, err = c.tryRead()
	}
	if coderws.CloseStatus(err) != coderws.StatusGoingAway {
		t.Errorf("at shutdown: %v; want closed with 1001", err)
	}
	var ce coderws.CloseError
	if errors.As(err, &ce) && !strings.Contains(ce.Reason, "shutting down") {
		t.Errorf("close reason %q", ce.Reason)
	}
}

// subscribers is the number of live eventAdded subscriptions in g.
func subscribers(g *graphtest.Gateway) int { return g.Feed.Subscribers() }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// graphql-transport-ws connections get pings, not only the legacy protocol.
func TestGraphQLTransportWSIsPinged(t *testing.T) {
	g := realtimeGateway(t, func(c *config.Config) { c.Realtime.KeepAlive = 20 * time.Millisecond })
	c, err := dialWS(t, g, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := c.tryRead()
		if err != nil {
			t.Fatalf("no ping before %v", err)
		}
		if m["type"] == "ping" {
			return
		}
	}
}
