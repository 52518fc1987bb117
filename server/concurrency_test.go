package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
)

// An upstream that answers 503 to every event lookup: the refusals bring
// getEventById's adaptive limit down below the calls in flight that were
// refused, the other routes keep theirs, and /readyz and /metrics say so.
func TestRefusalsLowerTheRouteLimitShownInReadyzAndMetrics(t *testing.T) {
	sim := eventsim.New(eventsim.Config{EventDelay: 0, Users: 1, EventsPerUser: 20})
	g := gatewayOver(t, sim, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/getEventById/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"Service temporarily unavailable","message":"Event API is over capacity"}`)
			return
		}
		sim.ServeHTTP(w, r)
	})
	res := g.query(t, `{ user(id: "u1") { events { id } } }`, nil)
	if len(res.Errors) == 0 {
		t.Fatal("every lookup was refused, yet the query has no errors")
	}

	var ready struct {
		UpstreamConcurrency map[string]struct {
			Limit, InFlight, Waiting int
		} `json:"upstreamConcurrency"`
	}
	rec := httptest.NewRecorder()
	g.app.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
		t.Fatalf("readyz %q: %v", rec.Body, err)
	}
	ev := ready.UpstreamConcurrency["getEventById"]
	// 20 lookups were refused with at most 20 in flight: 0.9 × that, or
	// the floor (8).
	if ev.Limit < 8 || ev.Limit > 18 {
		t.Errorf("getEventById limit %d after refusals, want 8..18; readyz %s", ev.Limit, rec.Body)
	}
	if ev.InFlight != 0 || ev.Waiting != 0 {
		t.Errorf("getEventById after the query: %+v, want nothing in flight or waiting", ev)
	}
	if u := ready.UpstreamConcurrency["getUserById"]; u.Limit != 1024 {
		t.Errorf("getUserById limit %d, want the untouched ceiling 1024", u.Limit)
	}

	rec = httptest.NewRecorder()
	g.app.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	want := fmt.Sprintf(`gateway_upstream_concurrency_limit{route="getEventById"} %d`, ev.Limit)
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %q:\n%s", want, regexp.MustCompile(`(?m)^gateway_upstream_.*$`).FindAllString(rec.Body.String(), -1))
	}
}
