package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventsim"
)

// gateway is a real gateway handler in front of a simulator, for tests.
type gateway struct {
	sim    *eventsim.Sim
	simURL string
	url    string
	app    *Gateway
}

// testConfig is the default configuration with fast retries and the entity
// cache off: most tests count what reaches the upstream, which the cache
// would hide; cache_test.go turns it on.
func testConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream.Client.Retry.Base = time.Millisecond
	cfg.Upstream.Client.Retry.Max = 5 * time.Millisecond
	cfg.Cache.Enabled = false
	return cfg
}

func newGateway(t testing.TB, simCfg eventsim.Config, mod func(*config.Config), opts ...Option) *gateway {
	t.Helper()
	sim := eventsim.New(simCfg)
	upstream := httptest.NewServer(sim)
	t.Cleanup(upstream.Close)
	cfg := testConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg, upstream.URL, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &gateway{sim: sim, simURL: upstream.URL, url: srv.URL, app: a}
}

// gqlError is a GraphQL error as the wire carries it.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Status int             `json:"-"`
}

// query posts a GraphQL query and decodes the answer.
func (g *gateway) query(t testing.TB, query string, vars map[string]any) gqlResponse {
	t.Helper()
	out, err := g.tryQuery(query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tryQuery is query for goroutines other than the test's, which must not
// call t.Fatal: it returns the failure instead.
func (g *gateway) tryQuery(query string, vars map[string]any) (gqlResponse, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, raw, err := send(http.MethodPost, g.url+"/graphql", "application/json", string(body), nil)
	if err != nil {
		return gqlResponse{}, err
	}
	var out gqlResponse
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return out, fmt.Errorf("decode GraphQL answer %q: %w", raw, err)
	}
	out.Status = resp.StatusCode
	return out, nil
}

// get fetches a REST route and decodes its JSON body into out.
func (g *gateway) get(t testing.TB, path string, out any) int {
	t.Helper()
	resp, err := http.Get(g.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q, want JSON", path, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return resp.StatusCode
}

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}

// fakeClock is a settable clock shared by the gateway's time-based parts.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// post sends a REST request with a JSON body and headers, and decodes the JSON answer.
func (g *gateway) post(t testing.TB, path, body string, header map[string]string, out any) *http.Response {
	t.Helper()
	resp, raw := do(t, http.MethodPost, g.url+path, "application/json", body, header)
	if out != nil {
		mustUnmarshal(t, []byte(raw), out)
	}
	return resp
}

// do sends a request and returns the response with its body read.
func do(t testing.TB, method, url, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	resp, raw, err := send(method, url, contentType, body, header)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// send is do for goroutines other than the test's: it returns the failure.
func send(method, url, contentType, body string, header map[string]string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, "", fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return resp, string(b), nil
}
