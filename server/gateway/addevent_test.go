package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsim"
)

const addEventMutation = `mutation Add($input: AddEventInput!, $key: String) {
  addEvent(input: $input, idempotencyKey: $key) {
    __typename
    ... on AddEventSuccess { event { id name userId details } }
    ... on ServiceUnavailable { message retryAfter circuitState }
    ... on InvalidInput { message field }
  }
}`

// addResult is the flattened AddEventResult union.
type addResult struct {
	Typename     string `json:"__typename"`
	Event        *eventapi.Event
	Message      string
	RetryAfter   int
	CircuitState string
	Field        string
}

func (g *gateway) addEvent(t *testing.T, input map[string]any, key *string) addResult {
	t.Helper()
	r, err := g.tryAddEvent(input, key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryAddEvent is addEvent for goroutines other than the test's.
func (g *gateway) tryAddEvent(input map[string]any, key *string) (addResult, error) {
	vars := map[string]any{"input": input}
	if key != nil {
		vars["key"] = *key
	}
	res, err := g.tryQuery(addEventMutation, vars)
	if err != nil {
		return addResult{}, err
	}
	if len(res.Errors) > 0 {
		return addResult{}, fmt.Errorf("addEvent errors: %+v", res.Errors)
	}
	var out struct{ AddEvent addResult }
	if err := json.Unmarshal(res.Data, &out); err != nil {
		return addResult{}, fmt.Errorf("decode addEvent %s: %w", res.Data, err)
	}
	return out.AddEvent, nil
}

// fastCycle is the simulator with the original failure cycle and no delays.
func fastCycle() eventsim.Config { return eventsim.Config{FailureCycle: true} }

func TestFailureCycleThroughTheBreaker(t *testing.T) {
	clock := newFakeClock()
	g := newGateway(t, fastCycle(), func(c *config.Config) { c.Breaker.Jitter = 0 }, WithClock(clock.Now))
	input := map[string]any{"name": "Launch", "userId": "3", "details": "rocket"}

	type step struct {
		advance    time.Duration
		typename   string
		state      string
		retryAfter int
		upstream   int // simulator's addEvent count after the step
	}
	ok := func(n int) step { return step{typename: "AddEventSuccess", upstream: n} }
	down := func(adv time.Duration, state string, retry, n int) step {
		return step{advance: adv, typename: "ServiceUnavailable", state: state, retryAfter: retry, upstream: n}
	}
	script := []step{
		ok(1), ok(2), ok(3), ok(4), ok(5),
		down(0, "CLOSED", 1, 6), down(0, "CLOSED", 1, 7),
		down(0, "OPEN", 10, 8),                                                           // the third failure in the window opens the circuit
		down(0, "OPEN", 10, 8), down(3*time.Second, "OPEN", 7, 8), down(0, "OPEN", 7, 8), // rejected: no upstream call
		down(7*time.Second, "OPEN", 20, 9),   // probe fails: 20 s
		down(5*time.Second, "OPEN", 15, 9),   // rejected
		down(15*time.Second, "OPEN", 40, 10), // probe fails: 40 s
		down(40*time.Second, "OPEN", 60, 11), // then the 60 s cap
		down(60*time.Second, "OPEN", 60, 12),
		down(60*time.Second, "OPEN", 60, 13),
		down(60*time.Second, "OPEN", 60, 14),
		down(60*time.Second, "OPEN", 60, 15),                                   // the upstream's cycle resets after call 15
		{advance: 60 * time.Second, typename: "AddEventSuccess", upstream: 16}, // probe succeeds: CLOSED
		ok(17), ok(18),
	}
	for i, st := range script {
		clock.Advance(st.advance)
		got := g.addEvent(t, input, nil)
		if got.Typename != st.typename || got.CircuitState != st.state || got.RetryAfter != st.retryAfter {
			t.Fatalf("step %d: got %s %s retryAfter=%d, want %s %s retryAfter=%d",
				i+1, got.Typename, got.CircuitState, got.RetryAfter, st.typename, st.state, st.retryAfter)
		}
		if n := g.sim.Count(eventsim.RouteAddEvent); n != st.upstream {
			t.Fatalf("step %d: simulator saw %d addEvent calls, want %d", i+1, n, st.upstream)
		}
		if got.Typename == "AddEventSuccess" && (got.Event.Name != "Launch" || got.Event.UserID != "3" || got.Event.Details != "rocket") {
			t.Fatalf("step %d: event %+v", i+1, got.Event)
		}
	}
}

func TestRESTAddEventThroughTheBreaker(t *testing.T) {
	clock := newFakeClock()
	g := newGateway(t, fastCycle(), func(c *config.Config) { c.Breaker.Jitter = 0 }, WithClock(clock.Now))
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

func TestNewEventIsVisibleAtOnce(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	res := g.query(t, `mutation { addEvent(input: {name: "  Party  ", userId: "2"}) {
		... on AddEventSuccess { event { id name user { id events { id } } } } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	var out struct {
		AddEvent struct {
			Event struct {
				ID, Name string
				User     struct{ Events []struct{ ID string } }
			}
		}
	}
	mustUnmarshal(t, res.Data, &out)
	ev := out.AddEvent.Event
	if ev.Name != "Party" || len(ev.User.Events) != 2 || ev.User.Events[1].ID != ev.ID {
		t.Fatalf("in the mutation's own answer: %+v, want the trimmed name and the new event in the user's list", ev)
	}
	var got struct {
		User struct{ Events []struct{ ID string } }
	}
	mustUnmarshal(t, g.query(t, `{ user(id: "2") { events { id } } }`, nil).Data, &got)
	if len(got.User.Events) != 2 || got.User.Events[1].ID != ev.ID {
		t.Errorf("GraphQL user 2 events %+v, want the new event last", got.User.Events)
	}
	var rest []eventapi.Event
	if g.get(t, "/getEventsByUserId/2", &rest); len(rest) != 2 || rest[1].ID != ev.ID || rest[1].Name != "Party" {
		t.Errorf("REST user 2 events %+v", rest)
	}
}

func TestIDsAreUniqueUnderConcurrency(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	var eg errgroup.Group
	ids := make(chan string, 50)
	for i := 0; i < 50; i++ {
		eg.Go(func() error {
			_, raw, err := send(http.MethodPost, g.url+"/addEvent", "application/json", `{"name":"n","userId":"1"}`, nil)
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

func TestIdempotencyKey(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	key := "order-42"
	input := map[string]any{"name": "Gig", "userId": "1"}
	first := g.addEvent(t, input, &key)
	second := g.addEvent(t, input, &key)
	if first.Typename != "AddEventSuccess" || second.Event == nil || second.Event.ID != first.Event.ID {
		t.Fatalf("first %+v, second %+v: want the same event", first.Event, second.Event)
	}
	// The same key through REST replays it too.
	var ok struct{ Event eventapi.Event }
	resp := g.post(t, "/addEvent", `{"name":"Gig","userId":"1"}`, map[string]string{"Idempotency-Key": key}, &ok)
	if ok.Event.ID != first.Event.ID || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("REST replay: %+v replayed=%q", ok.Event, resp.Header.Get("Idempotent-Replayed"))
	}
	if n := g.sim.Count(eventsim.RouteAddEvent); n != 1 {
		t.Errorf("%d upstream addEvent calls for one key, want 1", n)
	}
	if n := len(g.sim.UserEvents("1")); n != 3 {
		t.Errorf("user 1 has %d events upstream, want 3", n)
	}
	other := g.addEvent(t, map[string]any{"name": "Other", "userId": "1"}, &key)
	if other.Typename != "InvalidInput" || other.Field != "idempotencyKey" {
		t.Errorf("key reused for another input: %+v, want InvalidInput on idempotencyKey", other)
	}
}

func TestConcurrentDuplicateKeysMakeOneCall(t *testing.T) {
	g := newGateway(t, eventsim.Config{EventDelay: 0}, nil)
	key := "same-click"
	var eg errgroup.Group
	ids := make(chan string, 20)
	for i := 0; i < 20; i++ {
		eg.Go(func() error {
			r, err := g.tryAddEvent(map[string]any{"name": "Once", "userId": "2"}, &key)
			if r.Event != nil {
				ids <- r.Event.ID
			}
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	close(ids)
	var first string
	n := 0
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("duplicates returned different events %s and %s", first, id)
		}
		n++
	}
	if n != 20 || g.sim.Count(eventsim.RouteAddEvent) != 1 {
		t.Errorf("%d successes, %d upstream calls; want 20 and 1", n, g.sim.Count(eventsim.RouteAddEvent))
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	long := func(n int) string { return strings.Repeat("é", n) }
	empty, tooLong := "  ", strings.Repeat("k", 256)
	tests := []struct {
		input map[string]any
		key   *string
		field string
		msg   string
	}{
		{map[string]any{"name": "   ", "userId": "1"}, nil, "name", "name: must not be empty"},
		{map[string]any{"name": long(201), "userId": "1"}, nil, "name", "at most 200 characters"},
		{map[string]any{"name": "ok", "userId": "1", "details": long(2001)}, nil, "details", "at most 2000 characters"},
		{map[string]any{"name": "ok", "userId": "404"}, nil, "userId", `no user with id "404"`},
		{map[string]any{"name": "ok", "userId": " "}, nil, "userId", "must not be empty"},
		{map[string]any{"name": "ok", "userId": "1"}, &empty, "idempotencyKey", "must not be empty"},
		{map[string]any{"name": "ok", "userId": "1"}, &tooLong, "idempotencyKey", "at most 255"},
	}
	for _, tt := range tests {
		r := g.addEvent(t, tt.input, tt.key)
		if r.Typename != "InvalidInput" || r.Field != tt.field || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%v: %+v, want InvalidInput{%s} containing %q", tt.input, r, tt.field, tt.msg)
		}
	}
	// Exactly 200 and 2000 characters are fine.
	if r := g.addEvent(t, map[string]any{"name": long(200), "userId": "1", "details": long(2000)}, nil); r.Typename != "AddEventSuccess" {
		t.Errorf("limits themselves rejected: %+v", r)
	}
	if n := g.sim.Count(eventsim.RouteAddEvent); n != 1 {
		t.Errorf("%d upstream calls, want only the valid one", n)
	}
	// GraphQL's own type checks: a missing required field is a validation error.
	res := g.query(t, `mutation { addEvent(input: {userId: "1"}) { __typename } }`, nil)
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, "name") {
		t.Errorf("missing name: %+v", res.Errors)
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

func TestUpstreamRetryAfterIsPassedOn(t *testing.T) {
	sim := eventsim.New(eventsim.Config{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/addEvent" {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"success":false,"error":"Service temporarily unavailable","message":"maintenance"}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	defer upstream.Close()
	a, err := New(testConfig(t), upstream.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	g := &gateway{sim: sim, url: srv.URL, app: a}
	r := g.addEvent(t, map[string]any{"name": "x", "userId": "1"}, nil)
	if r.Typename != "ServiceUnavailable" || r.CircuitState != "CLOSED" || r.RetryAfter != 7 {
		t.Errorf("%+v, want ServiceUnavailable{CLOSED, retryAfter 7}", r)
	}
	var b map[string]any
	resp := g.post(t, "/addEvent", `{"name":"x","userId":"1"}`, nil, &b)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" || b["retryAfter"] != float64(7) || b["circuitBreakerState"] != "CLOSED" {
		t.Errorf("REST: %d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}
