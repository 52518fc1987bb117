package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

func TestHostileInput(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	deep := "{ users { events { user { events { user { events { user { events { user { events { id } } } } } } } } } } }"
	aliases := "{"
	for i := 0; i < 31; i++ {
		aliases += " a" + strings.Repeat("b", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `: user(id: "1") { id }`
	}
	aliases += " }"
	tokens := "{ users { " + strings.Repeat("id ", 5001) + "} }"
	complex := "{ users { events { user { events { id name details userId } } } } }"
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"depth", servicetest.GraphQLBody(deep), 200, "QUERY_TOO_DEEP"},
		{"aliases", servicetest.GraphQLBody(aliases), 200, "TOO_MANY_ALIASES"},
		{"tokens", servicetest.GraphQLBody(tokens), 200, "exceeded token limit"},
		{"complexity", servicetest.GraphQLBody(complex), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"malformed JSON", `{"query": "{ users { id } }"`, 400, "BAD_REQUEST"},
		{"wrong type", `{"query": 42}`, 400, "query: must be a string, got a number"},
		{"syntax error", servicetest.GraphQLBody("{ users { id "), 200, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", servicetest.GraphQLBody("{ users { age } }"), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"wrong variable type", `{"query":"query($id: ID!) { user(id: $id) { id } }","variables":{"id":{"x":1}}}`, 200, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", tt.body, nil)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) || !strings.Contains(body, `"errors"`) {
			t.Errorf("%s: %d %.300s; want %d with %s", tt.name, resp.StatusCode, body, tt.status, tt.want)
		}
	}
	if n := g.Sim.Count(eventsim.RouteGetUsers) + g.Sim.Count(eventsim.RouteGetUserByID); n != 0 {
		t.Errorf("rejected queries made %d upstream calls", n)
	}
	// The IDE's introspection query is deep but is not counted.
	introspection := `{ __schema { types { name fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }`
	if resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(introspection), nil); resp.StatusCode != 200 || strings.Contains(body, "errors") {
		t.Errorf("introspection: %d %.200s", resp.StatusCode, body)
	}
}

func TestRequestDeadlineReachesUpstream(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 2 * time.Second}, func(c *config.Config) { c.HTTP.RequestTimeout = 100 * time.Millisecond })
	resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(`{ event(id: "event-1") { id } }`), nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "UPSTREAM_TIMEOUT") {
		t.Fatalf("%d %s, want an UPSTREAM_TIMEOUT error", resp.StatusCode, body)
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 1 {
		t.Errorf("%d upstream calls: the deadline should stop retries", n)
	}
}

func TestCORSAllowList(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, func(c *config.Config) { c.HTTP.CORSAllowedOrigins = []string{"https://ok.example"} })
	pre := map[string]string{"Origin": "https://ok.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,idempotency-key"}
	resp, _ := servicetest.Do(t, "OPTIONS", g.URL+"/graphql", "", "", pre)
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://ok.example" || !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") {
		t.Errorf("preflight from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	pre["Origin"] = "https://evil.example"
	if resp, _ := servicetest.Do(t, "OPTIONS", g.URL+"/graphql", "", "", pre); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("preflight from another origin allowed")
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	query := "{ users { id } }"
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	if _, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", `{`+ext+`}`, nil); !strings.Contains(body, "PersistedQueryNotFound") {
		t.Errorf("unknown hash: %s", body)
	}
	if _, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", `{"query":"`+query+`",`+ext+`}`, nil); !strings.Contains(body, `"users"`) {
		t.Errorf("register: %s", body)
	}
	if _, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", `{`+ext+`}`, nil); !strings.Contains(body, `"users"`) {
		t.Errorf("by hash: %s", body)
	}
	bad := strings.Replace(ext, hash, strings.Repeat("0", 64), 1)
	if _, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", `{"query":"`+query+`",`+bad+`}`, nil); !strings.Contains(body, "provided APQ hash does not match query") {
		t.Errorf("wrong hash: %s", body)
	}
}
