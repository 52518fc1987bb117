package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

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
	servicetest.MustUnmarshal(t, res.Data, &out)
	ev := out.AddEvent.Event
	if ev.Name != "Party" || len(ev.User.Events) != 2 || ev.User.Events[1].ID != ev.ID {
		t.Fatalf("in the mutation's own answer: %+v, want the trimmed name and the new event in the user's list", ev)
	}
	var got struct {
		User struct{ Events []struct{ ID string } }
	}
	servicetest.MustUnmarshal(t, g.query(t, `{ user(id: "2") { events { id } } }`, nil).Data, &got)
	if len(got.User.Events) != 2 || got.User.Events[1].ID != ev.ID {
		t.Errorf("GraphQL user 2 events %+v, want the new event last", got.User.Events)
	}
	var rest []eventapi.Event
	if g.get(t, "/getEventsByUserId/2", &rest); len(rest) != 2 || rest[1].ID != ev.ID || rest[1].Name != "Party" {
		t.Errorf("REST user 2 events %+v", rest)
	}
}

func TestIdempotencyKey(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	key := "order-42"
	input := map[string]any{"name": "Gig", "userId": "1"}
	first := g.server().AddEvent(t, input, &key)
	second := g.server().AddEvent(t, input, &key)
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
	other := g.server().AddEvent(t, map[string]any{"name": "Other", "userId": "1"}, &key)
	if other.Typename != "InvalidInput" || other.Field != "idempotencyKey" {
		t.Errorf("key reused for another input: %+v, want InvalidInput on idempotencyKey", other)
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
	a, err := newTestApp(servicetest.Config(t), upstream.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	g := &gateway{sim: sim, url: srv.URL, app: a}
	r := g.server().AddEvent(t, map[string]any{"name": "x", "userId": "1"}, nil)
	if r.Typename != "ServiceUnavailable" || r.CircuitState != "CLOSED" || r.RetryAfter != 7 {
		t.Errorf("%+v, want ServiceUnavailable{CLOSED, retryAfter 7}", r)
	}
	var b map[string]any
	resp := g.post(t, "/addEvent", `{"name":"x","userId":"1"}`, nil, &b)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" || b["retryAfter"] != float64(7) || b["circuitBreakerState"] != "CLOSED" {
		t.Errorf("REST: %d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}
