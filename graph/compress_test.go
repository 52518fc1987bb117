package graph_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/klauspost/compress/zstd"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// The gateway's tests run on the server's stack with compression on, as
// configured by default; these are about what it does to GraphQL answers.

// raw sends only the headers it is given (no Accept-Encoding of its own)
// and decodes nothing.
var raw = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// sendTo posts (or gets, with body "") to the door with header and returns
// the answer with its body unread; it ends with t.
func sendTo(t *testing.T, g *graphtest.Gateway, method, query string, header map[string]string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	t.Cleanup(cancel)
	target, body := g.URL+"/graphql", io.Reader(nil)
	if method == http.MethodGet {
		target += "?query=" + url.QueryEscape(query)
	} else {
		body = strings.NewReader(servicetest.GraphQLBody(query))
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Apollo-Require-Preflight", "true")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// decoder reads r decoded from coding, as it arrives.
func decoder(t *testing.T, coding string, r io.Reader) io.Reader {
	t.Helper()
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		return zr
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		t.Cleanup(zr.Close)
		return zr
	}
	t.Fatalf("Content-Encoding %q; want gzip or zstd", coding)
	return nil
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const usersQuery = `{ users { id userName email events { id } } }`

// A GraphQL answer in gzip or zstd decodes to the very JSON of the
// identity answer, and says Vary: Accept-Encoding beside Vary: Accept.
func TestGraphQLAnswersAreCoded(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 5, EventsPerUser: 20}, nil)
	identity := readAll(t, sendTo(t, g, "POST", usersQuery, nil).Body)
	if !json.Valid(identity) || !bytes.Contains(identity, []byte("u5-e20")) {
		t.Fatalf("identity answer: %.300s", identity)
	}
	for _, coding := range []string{"gzip", "zstd"} {
		resp := sendTo(t, g, "POST", usersQuery, map[string]string{"Accept-Encoding": coding})
		vary := strings.Join(resp.Header.Values("Vary"), ", ")
		if resp.Header.Get("Content-Encoding") != coding || !strings.Contains(vary, "Accept-Encoding") || !strings.Contains(vary, "Accept,") && !strings.HasSuffix(vary, "Accept") {
			t.Errorf("%s: Content-Encoding %q Vary %q; want %s, Accept and Accept-Encoding", coding, resp.Header.Get("Content-Encoding"), vary, coding)
			continue
		}
		wire := readAll(t, resp.Body)
		if plain := readAll(t, decoder(t, coding, bytes.NewReader(wire))); !bytes.Equal(plain, identity) {
			t.Errorf("%s decoded:\n%s\nwant:\n%s", coding, plain, identity)
		}
		t.Logf("%s: %d bytes on the wire for %d", coding, len(wire), len(identity))
	}
}

// A GraphQL GET coded gets a weak ETag and revalidates with it: 304, no
// body, no Content-Encoding.
func TestGraphQLGetRevalidatesCoded(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 5, EventsPerUser: 20}, nil)
	ae := map[string]string{"Accept-Encoding": "gzip"}
	first := sendTo(t, g, "GET", usersQuery, ae)
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || first.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(etag, `W/"`) {
		t.Fatalf("GET: %d Content-Encoding %q ETag %q; want 200 gzip and a weak ETag", first.StatusCode, first.Header.Get("Content-Encoding"), etag)
	}
	again := sendTo(t, g, "GET", usersQuery, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if body := readAll(t, again.Body); again.StatusCode != http.StatusNotModified || len(body) != 0 ||
		again.Header.Get("Content-Encoding") != "" || again.Header.Get("ETag") != etag {
		t.Errorf("revalidation: %d %q Content-Encoding %q ETag %q; want 304 with %s", again.StatusCode, body,
			again.Header.Get("Content-Encoding"), again.Header.Get("ETag"), etag)
	}
}

// heldLookups is an upstream in front of the simulator that holds every
// getEventById call until released: the parts that need events cannot be
// sent before the test says so.
type heldLookups struct {
	sim     atomic.Pointer[eventsim.Sim]
	held    atomic.Int32 // lookups that arrived
	gaveUp  atomic.Int32 // lookups whose caller stopped waiting
	release chan struct{}
	once    sync.Once
}

func (h *heldLookups) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/getEventById/") {
		h.held.Add(1)
		select {
		case <-h.release:
		case <-r.Context().Done():
			h.gaveUp.Add(1)
			return
		}
	}
	h.sim.Load().ServeHTTP(w, r)
}

func (h *heldLookups) open() { h.once.Do(func() { close(h.release) }) }

// stillHeld fails t unless a lookup is waiting for the release now: what
// was read so far was sent before any deferred part could be.
func (h *heldLookups) stillHeld(t *testing.T) {
	t.Helper()
	testwait.Until(t, "a held event lookup", func() bool { return h.held.Load() > 0 })
	if h.gaveUp.Load() > 0 {
		t.Fatal("the first part arrived only after the held lookups timed out: the coder held it back")
	}
}

// heldGateway is the door over a simulator whose event lookups are held.
func heldGateway(t *testing.T) (*graphtest.Gateway, *heldLookups) {
	t.Helper()
	held := &heldLookups{release: make(chan struct{})}
	g := graphtest.New(t, eventsim.Config{}, nil, graphtest.WithUpstream(held))
	held.sim.Store(g.Sim)
	t.Cleanup(held.open)
	return g, held
}

const deferQuery = `{ user(id: "1") { userName ... @defer { events { id name } } } }`

// A multipart @defer answer is coded, and its first part decodes while the
// deferred part cannot have been sent yet (its event lookups are held):
// the coder flushes each part as the transport does.
func TestDeferredPartsArriveCodedAsTheyAreSent(t *testing.T) {
	for _, coding := range []string{"gzip", "zstd"} {
		t.Run(coding, func(t *testing.T) {
			g, held := heldGateway(t)
			resp := sendTo(t, g, "POST", deferQuery, map[string]string{
				"Accept": "multipart/mixed;deferSpec=20220824, application/json", "Accept-Encoding": coding})
			mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/mixed" || resp.Header.Get("Content-Encoding") != coding {
				t.Fatalf("Content-Type %q Content-Encoding %q; want multipart/mixed in %s", resp.Header.Get("Content-Type"),
					resp.Header.Get("Content-Encoding"), coding)
			}
			parts := multipart.NewReader(decoder(t, coding, resp.Body), params["boundary"])
			next := func() map[string]any {
				t.Helper()
				p, err := parts.NextPart()
				if err != nil {
					t.Fatalf("next part: %v", err)
				}
				var v map[string]any
				if err := json.NewDecoder(p).Decode(&v); err != nil {
					t.Fatalf("part is not JSON: %v", err)
				}
				return v
			}
			first := next()
			held.stillHeld(t)
			if b, _ := json.Marshal(first); first["hasNext"] != true || !bytes.Contains(b, []byte("john_doe")) || bytes.Contains(b, []byte("event-3")) {
				t.Fatalf("first part %s; want the name, hasNext true, no events", b)
			}
			held.open()
			var last map[string]any
			for last == nil || last["hasNext"] == true {
				last = next()
			}
			if b, _ := json.Marshal(last); !bytes.Contains(b, []byte("event-3")) {
				t.Errorf("last part %s; want the events", b)
			}
			if _, err := parts.NextPart(); err != io.EOF {
				t.Errorf("after the last part: %v; want the end", err)
			}
		})
	}
}

// An SSE answer is coded too (gzip: zstd's coder is too big to keep per
// stream), each event readable while the next cannot have been sent.
func TestSSEEventsArriveCodedAsTheyAreSent(t *testing.T) {
	g, held := heldGateway(t)
	resp := sendTo(t, g, "POST", deferQuery, map[string]string{"Accept": "text/event-stream", "Accept-Encoding": "zstd, gzip"})
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Type %q Content-Encoding %q; want text/event-stream in gzip", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
	}
	lines := bufio.NewScanner(decoder(t, "gzip", resp.Body))
	data := func() string {
		t.Helper()
		for lines.Scan() {
			if d, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				return d
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	first := data()
	held.stillHeld(t)
	if !strings.Contains(first, "john_doe") || strings.Contains(first, "event-3") {
		t.Fatalf("first event %s; want the name, no events", first)
	}
	held.open()
	if rest := data(); !strings.Contains(rest, "event-3") {
		t.Errorf("next event %s; want the events", rest)
	}
	for lines.Scan() {
		if lines.Text() == "event: complete" {
			return
		}
	}
	t.Errorf("no complete event: %v", lines.Err())
}

// A WebSocket upgrade through the stack is not touched by the coder, even
// from a client that sends Accept-Encoding: the handshake carries no
// Content-Encoding and operations run over it.
func TestWebSocketPassesTheCoder(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	conn, resp, err := coderws.Dial(ctx, strings.Replace(g.URL, "http", "ws", 1)+"/graphql", &coderws.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Accept-Encoding": {"gzip, zstd"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Content-Encoding") != "" ||
		strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Errorf("handshake: %d %v; want 101 untouched by the coder", resp.StatusCode, resp.Header)
	}
	exchange := func(send map[string]any, wantType string) map[string]any {
		t.Helper()
		if send != nil {
			if err := wsjson.Write(ctx, conn, send); err != nil {
				t.Fatal(err)
			}
		}
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatal(err)
			}
			if m["type"] != "ping" && m["type"] != "pong" {
				if m["type"] != wantType {
					t.Fatalf("got %v; want %s", m, wantType)
				}
				return m
			}
		}
	}
	exchange(map[string]any{"type": "connection_init"}, "connection_ack")
	next := exchange(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `{ user(id: "1") { userName } }`}}, "next")
	if b, _ := json.Marshal(next); !bytes.Contains(b, []byte("john_doe")) {
		t.Errorf("next %s; want the user", b)
	}
}
