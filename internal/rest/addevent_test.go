package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/upstream/eventapi"
	"golang.org/x/sync/errgroup"
)

func fastCycle() eventsim.Config { return eventsim.Config{FailureCycle: true} }

func TestRESTAddEventThroughTheBreaker(t *testing.T) {
	clock := servicetest.NewClock()
	g := newGateway(t, fastCycle(), func(c *config.Config) { c.Breaker.Jitter = 0 }, withClock(clock.Now))
	body := `{"name":"Standup","userId":"2","details":"daily"}`
	for i := 1; i <= 5; i++ {
		var ok struct {
			Success bool
			Event   eventapi.Event
		}
		if resp := g.post(t, "/addEvent", body, nil, &ok); resp.StatusCode != 200 || !ok.Success || ok.Event.Name != "Standup" || !strings.HasPrefix(ok.Event.ID, "event-") {
			t.Fatalf("call %d: %d %+v", i, resp.StatusCode, ok)
		}
	}
	want := []struct {
		state      string
		retryAfter string
	}{{"CLOSED", "1"}, {"CLOSED", "1"}, {"OPEN", "10"}, {"OPEN", "10"}}
	for i, w := range want {
		var b map[string]any
		resp := g.post(t, "/addEvent", body, nil, &b)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != w.retryAfter {
			t.Fatalf("failure %d: %d Retry-After %q, want 503 %s", i+1, resp.StatusCode, resp.Header.Get("Retry-After"), w.retryAfter)
		}
		if b["success"] != false || b["error"] != "Service temporarily unavailable" || b["circuitBreakerState"] != w.state ||
			fmt.Sprint(b["retryAfter"]) != w.retryAfter || b["message"] == "" {
			t.Fatalf("failure %d: body %v", i+1, b)
		}
	}
	if n := g.sim.Count(eventsim.RouteAddEvent); n != 8 {
		t.Errorf("simulator saw %d calls, want 8: the OPEN rejection must not reach it", n)
	}
}

func TestIDsAreUniqueUnderConcurrency(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	var eg errgroup.Group
	ids := make(chan string, 50)
	for i := 0; i < 50; i++ {
		eg.Go(func() error {
			_, raw, err := servicetest.Send(http.MethodPost, g.url+"/addEvent", "application/json", `{"name":"n","userId":"1"}`, nil)
			if err != nil {
				return err
			}
			var ok struct{ Event eventapi.Event }
			if err := json.Unmarshal([]byte(raw), &ok); err != nil {
				return fmt.Errorf("decode %q: %w", raw, err)
			}
			ids <- ok.Event.ID
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("id %q empty or repeated", id)
		}
		seen[id] = true
	}
	if n := len(g.sim.UserEvents("1")); n != 52 {
		t.Errorf("user 1 has %d events upstream, want 2 + 50", n)
	}
}

func TestRESTAddEventBadInput(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	tests := []struct {
		body   string
		status int
		msg    string
	}{
		{`{"name":"x","userId":"1"`, 400, "body: malformed JSON"},
		{`not json`, 400, "body: malformed JSON"},
		{``, 400, "body: must be a JSON object"},
		{`null`, 400, "body: must be a JSON object, got null"},
		{`[1,2]`, 400, "body: must be a JSON object, got array"},
		{`{"name":"x","userId":3}`, 400, "userId: must be a string, got number"},
		{`{"name":["x"],"userId":"3"}`, 400, "name: must be a string, got array"},
		{`{"userId":"3"}`, 400, "name: is required"},
		{`{"name":"x"}`, 400, "userId: is required"},
		{`{"name":"","userId":"3"}`, 400, "name: must not be empty"},
		{`{"name":"x","userId":"nobody"}`, 400, `userId: no user with id "nobody"`},
		{`{"name":"x","userId":"3"} {"again":1}`, 400, "body: unexpected data after the JSON object"},
		{`{"name":"x","userId":"3","details":"` + strings.Repeat("d", 1<<20) + `"}`, 413, "body: must be at most 1048576 bytes"},
	}
	for _, tt := range tests {
		var b map[string]any
		resp := g.post(t, "/addEvent", tt.body, nil, &b)
		msg, _ := b["message"].(string)
		if resp.StatusCode != tt.status || b["success"] != false || !strings.Contains(msg, tt.msg) {
			name := tt.body
			if len(name) > 40 {
				name = name[:40]
			}
			t.Errorf("%s: %d %v, want %d with %q", name, resp.StatusCode, b, tt.status, tt.msg)
		}
	}
	var b map[string]any
	if resp := g.post(t, "/addEvent", `{"name":"x","userId":"1"}`, map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}, &b); resp.StatusCode != 400 || !strings.HasPrefix(b["message"].(string), "Idempotency-Key:") {
		t.Errorf("long key: %d %v", resp.StatusCode, b)
	}
	if n := g.sim.Count(eventsim.RouteAddEvent); n != 0 {
		t.Errorf("%d upstream calls for bad input, want 0", n)
	}
	resp, err := http.Get(g.url + "/addEvent")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /addEvent: %d, want 405", resp.StatusCode)
	}
}
