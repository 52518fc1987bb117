package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

// Upstream failures name the operation and the class; the upstream's host
// and URL appear only with detailed errors on, and always in the log.
func TestUpstreamDetailsDoNotLeak(t *testing.T) {
	for _, detailed := range []bool{false, true} {
		upstream := httptest.NewServer(http.NotFoundHandler())
		host := strings.TrimPrefix(upstream.URL, "http://")
		upstream.Close() // connection refused from now on
		cfg := servicetest.Config(t)
		cfg.Upstream.DetailedErrors = detailed
		a, err := newTestApp(cfg, "http://"+host, servicetest.Discard())
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.handler)
		_, gqlBodyText := servicetest.Do(t, "POST", srv.URL+"/graphql", "application/json", servicetest.GraphQLBody(`{ user(id: "3") { id } }`), nil)
		_, restBody := servicetest.Do(t, "GET", srv.URL+"/getEventsByUserId/3", "", "", nil)
		srv.Close()
		a.close()
		for door, body := range map[string]string{"GraphQL": gqlBodyText, "REST": restBody} {
			if strings.Contains(body, host) != detailed {
				t.Errorf("detailed=%v, %s: host %s in %q", detailed, door, host, body)
			}
			if !strings.Contains(body, `get user \"3\"`) || !strings.Contains(body, "unavailable") {
				t.Errorf("detailed=%v, %s: %q does not name the operation and the class", detailed, door, body)
			}
		}
	}
}

// Invalid UTF-8 in a string input is refused naming the field, never
// stored with U+FFFD in its place.
func TestInvalidUTF8IsRefused(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	var rest map[string]any
	resp := g.post(t, "/addEvent", "{\"name\":\"caf\xe9\",\"userId\":\"1\"}", nil, &rest)
	if resp.StatusCode != 400 || !strings.Contains(rest["message"].(string), "name: must be valid UTF-8") {
		t.Errorf("REST: %d %v", resp.StatusCode, rest)
	}
	resp, body := servicetest.Do(t, "POST", g.url+"/graphql", "application/json",
		"{\"query\":\"mutation($in: AddEventInput!) { addEvent(input: $in) { __typename } }\",\"variables\":{\"in\":{\"name\":\"\xff\",\"userId\":\"1\"}}}", nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "variables.in.name: must be valid UTF-8") {
		t.Errorf("GraphQL: %d %s", resp.StatusCode, body)
	}
	if n := g.sim.Count(eventsim.RouteAddEvent); n != 0 {
		t.Errorf("%d upstream addEvent calls", n)
	}
}
