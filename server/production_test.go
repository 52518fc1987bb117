package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/logging"
	"github.com/eventms/gateway/internal/servicetest"
)

func TestHealthAndReadiness(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, func(c *config.Config) { c.HTTP.ReadyCheckInterval = 0 })
	if resp, body := servicetest.Do(t, "GET", g.url+"/healthz", "", "", nil); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	resp, body := servicetest.Do(t, "GET", g.url+"/readyz", "", "", nil)
	var ready struct {
		Status         string
		Upstream       struct{ Reachable bool }
		CircuitBreaker string
	}
	_ = json.Unmarshal([]byte(body), &ready)
	if resp.StatusCode != 200 || ready.Status != "ready" || !ready.Upstream.Reachable || ready.CircuitBreaker != "CLOSED" {
		t.Errorf("readyz: %d %s", resp.StatusCode, body)
	}
	g.app.health.Drain()
	if resp, body := servicetest.Do(t, "GET", g.url+"/readyz", "", "", nil); resp.StatusCode != 503 || !strings.Contains(body, `"draining"`) {
		t.Errorf("readyz while draining: %d %s", resp.StatusCode, body)
	}
}

func TestNotReadyWhenUpstreamIsDown(t *testing.T) {
	cfg := servicetest.Config(t)
	cfg.HTTP.ReadyCheckInterval = 0
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	a, err := newTestApp(cfg, dead.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	resp, body := servicetest.Do(t, "GET", srv.URL+"/readyz", "", "", nil)
	if resp.StatusCode != 503 || !strings.Contains(body, `"reachable":false`) || !strings.Contains(body, `"not ready"`) {
		t.Errorf("readyz with a dead upstream: %d %s", resp.StatusCode, body)
	}
}

func TestMetricsAreExposed(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	g.sim.DropNext(1)
	servicetest.Do(t, "POST", g.url+"/graphql", "application/json", `{"query":"query UserEvents { users { events { id } } }","operationName":"UserEvents"}`, nil)
	g.server().AddEvent(t, map[string]any{"name": "m", "userId": "1"}, nil)
	_, body := servicetest.Do(t, "GET", g.url+"/metrics", "", "", nil)
	for _, want := range []string{
		`gateway_http_requests_total{method="POST",route="/graphql",status="200"} 2`,
		`gateway_http_request_duration_seconds_count{route="/graphql"} 2`,
		`gateway_graphql_operations_total{operation="UserEvents",outcome="ok",type="query"} 1`,
		`gateway_graphql_operations_total{operation="Add",outcome="ok",type="mutation"} 1`,
		`gateway_upstream_calls_total{outcome="ok",route="getEventById"} 4`,
		`gateway_upstream_calls_total{outcome="unavailable",route="getUsers"} 1`,
		`gateway_upstream_retries_total{route="getUsers"} 1`,
		`gateway_upstream_call_duration_seconds_count{route="addEvent"} 1`,
		`gateway_loader_batch_size_sum{loader="event"} 4`,
		`gateway_circuit_breaker_state 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	var logs bytes.Buffer
	sim := httptest.NewServer(eventsim.New(eventsim.Config{}))
	defer sim.Close()
	a, err := newTestApp(servicetest.Config(t), sim.URL, logging.New(&logs, "json", "info"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()

	resp, _ := servicetest.Do(t, "POST", srv.URL+"/graphql", "application/json", `{"query":"query Who { user(id: \"1\") { id } }"}`, map[string]string{"X-Request-ID": "abc-123"})
	if got := resp.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	resp, _ = servicetest.Do(t, "GET", srv.URL+"/getUsers", "", "", map[string]string{"X-Request-ID": strings.Repeat("x", 200)})
	if got := resp.Header.Get("X-Request-ID"); len(got) != 24 {
		t.Errorf("oversize X-Request-ID not replaced: %q", got)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "abc-123") {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	if line["msg"] != "request" || line["route"] != "/graphql" || line["operation"] != "Who" ||
		line["status"] != float64(200) || line["method"] != "POST" || line["duration_ms"] == nil {
		t.Errorf("access line %v; logs:\n%s", line, logs.String())
	}
}

func TestCSRFAndMethods(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	q := url.QueryEscape(`{ users { id } }`)
	m := url.QueryEscape(`mutation { addEvent(input: {name: "x", userId: "1"}) { __typename } }`)
	tests := []struct {
		name, method, path, ct, body string
		header                       map[string]string
		status                       int
		want                         string
	}{
		{"form post", "POST", "/graphql", "application/x-www-form-urlencoded", "query=%7Busers%7Bid%7D%7D", nil, 400, "Cross-Site Request Forgery"},
		{"text/plain post", "POST", "/graphql", "text/plain", servicetest.GraphQLBody("{ users { id } }"), nil, 400, "Cross-Site Request Forgery"},
		{"plain GET", "GET", "/graphql?query=" + q, "", "", nil, 400, "Cross-Site Request Forgery"},
		{"preflighted GET", "GET", "/graphql?query=" + q, "", "", map[string]string{"Apollo-Require-Preflight": "true"}, 200, `"users"`},
		{"GET with operation header", "GET", "/graphql?query=" + q, "", "", map[string]string{"X-Apollo-Operation-Name": "U"}, 200, `"users"`},
		{"mutation over GET", "GET", "/graphql?query=" + m, "", "", map[string]string{"Apollo-Require-Preflight": "true"}, 406, "GET requests only allow query operations"},
		{"REST form post", "POST", "/addEvent", "text/plain", `{"name":"x","userId":"1"}`, nil, 415, "Content-Type: must be application/json"},
		{"REST json with charset", "POST", "/addEvent", "application/json; charset=utf-8", `{"name":"x","userId":"1"}`, nil, 200, `"success":true`},
	}
	for _, tt := range tests {
		resp, body := servicetest.Do(t, tt.method, g.url+tt.path, tt.ct, tt.body, tt.header)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %.200s; want %d with %s", tt.name, resp.StatusCode, body, tt.status, tt.want)
		}
	}
	if n := g.sim.Count(eventsim.RouteAddEvent); n != 1 {
		t.Errorf("%d addEvent calls upstream, want only the JSON one", n)
	}
}

func TestProductionDefaults(t *testing.T) {
	env := map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal", "AUTH_MODE": "off"}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, eventsim.Config{}, func(c *config.Config) {
		c.GraphQL, c.HTTP.CORSAllowedOrigins = cfg.GraphQL, cfg.HTTP.CORSAllowedOrigins
	})
	dev := newGateway(t, eventsim.Config{}, nil)

	if _, body := servicetest.Do(t, "POST", g.url+"/graphql", "application/json", servicetest.GraphQLBody("{ __schema { types { name } } }"), nil); !strings.Contains(body, `"code":"INTROSPECTION_DISABLED"`) || strings.Contains(body, `"data"`) {
		t.Errorf("production introspection: %.200s", body)
	}
	if resp, _ := servicetest.Do(t, "GET", g.url+"/", "", "", nil); resp.StatusCode != 404 {
		t.Errorf("production IDE: %d, want 404", resp.StatusCode)
	}
	if resp, body := servicetest.Do(t, "GET", dev.url+"/", "", "", nil); resp.StatusCode != 200 || !strings.Contains(body, "graphiql") {
		t.Errorf("development IDE: %d", resp.StatusCode)
	}
	if resp, _ := servicetest.Do(t, "GET", g.url+"/graphql/schema.graphql", "", "", nil); resp.StatusCode != 404 {
		t.Errorf("production SDL: %d, want 404", resp.StatusCode)
	}
	if resp, body := servicetest.Do(t, "GET", dev.url+"/graphql/schema.graphql", "", "", nil); resp.StatusCode != 200 || !strings.Contains(body, "type Query") {
		t.Errorf("development SDL: %d", resp.StatusCode)
	}
	_, prodBody := servicetest.Do(t, "POST", g.url+"/graphql", "application/json", servicetest.GraphQLBody("{ userz { id } }"), nil)
	_, devBody := servicetest.Do(t, "POST", dev.url+"/graphql", "application/json", servicetest.GraphQLBody("{ userz { id } }"), nil)
	if strings.Contains(prodBody, "Did you mean") || !strings.Contains(devBody, "Did you mean") {
		t.Errorf("suggestions: production %s / development %s", prodBody, devBody)
	}
	origin := map[string]string{"Origin": "https://app.example.com"}
	if resp, _ := servicetest.Do(t, "POST", g.url+"/graphql", "application/json", servicetest.GraphQLBody("{ users { id } }"), origin); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("production allows any origin by default")
	}
	if resp, _ := servicetest.Do(t, "POST", dev.url+"/graphql", "application/json", servicetest.GraphQLBody("{ users { id } }"), origin); resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("development CORS default is not *")
	}
}
