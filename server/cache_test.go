package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

const userEvents = `{ user(id: "1") { userName events { id name } } }`

func TestRepeatedReadsAreAnsweredFromMemory(t *testing.T) {
	g, _, _ := cachedGateway(t, nil)
	for i := 0; i < 3; i++ {
		if res := g.query(t, userEvents, nil); len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		var events []any
		if s := g.get(t, "/getEventsByUserId/1", &events); s != 200 || len(events) != 2 {
			t.Fatalf("REST read %d: %d %v", i, s, events)
		}
	}
	// GraphQL and REST share one keyspace: 6 reads, one lookup per entity.
	if u, e := g.sim.Count(eventsim.RouteGetUserByID), g.sim.Count(eventsim.RouteGetEventByID); u != 1 || e != 2 {
		t.Errorf("%d user and %d event lookups for 6 reads; want 1 and 2", u, e)
	}
}

func TestStaleAnswersSaySoAndOutagesAreSurvived(t *testing.T) {
	g, clock, stop := cachedGateway(t, nil)
	g.query(t, userEvents, nil)
	var seen []any
	g.get(t, "/getEventsByUserId/1", &seen)
	stop()
	clock.Advance(10 * time.Minute) // past fresh and stale-while-revalidate, within stale-if-error

	body, _ := json.Marshal(map[string]any{"query": userEvents})
	resp, raw := servicetest.Do(t, "POST", g.url+"/graphql", "application/json", string(body), nil)
	var res struct {
		Data       json.RawMessage
		Errors     []servicetest.GraphQLError
		Extensions struct {
			Cache struct {
				Stale bool
				Age   int
			}
		}
	}
	servicetest.MustUnmarshal(t, []byte(raw), &res)
	if resp.StatusCode != 200 || len(res.Errors) > 0 || !strings.Contains(string(res.Data), "john_doe") ||
		!res.Extensions.Cache.Stale || res.Extensions.Cache.Age != 600 {
		t.Errorf("GraphQL during the outage: %d %s; want the data with cache {stale, age 600}", resp.StatusCode, raw)
	}
	resp, raw = servicetest.Do(t, "GET", g.url+"/getEventsByUserId/1", "", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Age") != "600" || !strings.Contains(resp.Header.Get("Warning"), "110") ||
		resp.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(raw, "event-3") {
		t.Errorf("REST during the outage: %d Age %q Warning %q Cache-Control %q %s", resp.StatusCode,
			resp.Header.Get("Age"), resp.Header.Get("Warning"), resp.Header.Get("Cache-Control"), raw)
	}
	// Something never seen fails exactly as without the cache.
	if res := g.query(t, `{ user(id: "2") { userName } }`, nil); len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("unseen user during the outage: %+v; want UPSTREAM_UNAVAILABLE", res.Errors)
	}
	var ready map[string]any
	resp, raw = servicetest.Do(t, "GET", g.url+"/readyz", "", "", nil)
	_ = json.Unmarshal([]byte(raw), &ready)
	if resp.StatusCode != 200 || ready["status"] != "degraded" {
		t.Errorf("/readyz during the outage: %d %s; want 200 degraded", resp.StatusCode, raw)
	}
}

func TestReadYourWritesOnBothDoors(t *testing.T) {
	g, _, _ := cachedGateway(t, nil)
	g.query(t, `{ user(id: "2") { events { id } } users { id events } events { id } }`, nil)
	var before []map[string]any
	g.get(t, "/getEventsByUserId/2", &before)
	added := g.server().AddEvent(t, map[string]any{"name": "Fresh", "userId": "2"}, nil)
	if added.Typename != "AddEventSuccess" {
		t.Fatalf("addEvent: %+v", added)
	}
	var after []map[string]any
	if g.get(t, "/getEventsByUserId/2", &after); len(after) != len(before)+1 || after[len(after)-1]["id"] != added.Event.ID {
		t.Errorf("REST after the write: %v; want %v plus %s", after, before, added.Event.ID)
	}
	res := g.query(t, `{ user(id: "2") { events { id } } events { id } }`, nil)
	if !strings.Contains(string(res.Data), added.Event.ID) || strings.Count(string(res.Data), added.Event.ID) != 2 {
		t.Errorf("GraphQL after the write: %s; want %s in the user's events and in events", res.Data, added.Event.ID)
	}
	var restAdded map[string]any
	g.post(t, "/addEvent", `{"name":"Second","userId":"2"}`, nil, &restAdded)
	var users []map[string]any
	g.get(t, "/getUsers", &users)
	id := restAdded["event"].(map[string]any)["id"]
	if !strings.Contains(fmt.Sprint(users), fmt.Sprint(id)) {
		t.Errorf("getUsers after a REST write: %v; want %v", users, id)
	}
}

func TestHTTPCachingHeaders(t *testing.T) {
	g, _, _ := cachedGateway(t, nil)
	gqlGet := func(query string, header map[string]string) (*http.Response, string) {
		h := map[string]string{"Apollo-Require-Preflight": "true"}
		for k, v := range header {
			h[k] = v
		}
		return servicetest.Do(t, "GET", g.url+"/graphql?query="+url.QueryEscape(query), "", "", h)
	}
	tests := []struct {
		name, method, path, query string
		wantCC                    string
	}{
		// No type has a maxAge: every answer is revalidated (by ETag), so a
		// browser reads its own writes.
		{"REST events: revalidate", "GET", "/getEventsByUserId/1", "", "no-cache"},
		{"REST users carry e-mail: private", "GET", "/getUsers", "", "private, no-cache"},
		{"GraphQL events: revalidate", "GET", "", `{ events { id name } }`, "no-cache"},
		{"GraphQL e-mail: private", "GET", "", `{ users { id email } }`, "private, no-cache"},
		{"GraphQL answer with errors: no-store", "GET", "", `{ nope }`, "no-store"},
	}
	for _, tt := range tests {
		var resp *http.Response
		if tt.query != "" {
			resp, _ = gqlGet(tt.query, nil)
		} else {
			resp, _ = servicetest.Do(t, tt.method, g.url+tt.path, "", "", nil)
		}
		if tt.wantCC != "" && resp.Header.Get("Cache-Control") != tt.wantCC {
			t.Errorf("%s: Cache-Control %q; want %q", tt.name, resp.Header.Get("Cache-Control"), tt.wantCC)
		}
	}
	if resp, _ := gqlGet(`{ events { id } }`, nil); !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept") {
		t.Errorf("GraphQL GET Vary %q; want Accept", resp.Header.Values("Vary"))
	}
	body, _ := json.Marshal(map[string]any{"query": servicetest.AddEventMutation, "variables": map[string]any{"input": map[string]any{"name": "x", "userId": "1"}}})
	if resp, _ := servicetest.Do(t, "POST", g.url+"/graphql", "application/json", string(body), nil); resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("mutation: Cache-Control %q; want no-store", resp.Header.Get("Cache-Control"))
	}

	// ETag and 304, and a new ETag once a write changed the answer.
	first, _ := servicetest.Do(t, "GET", g.url+"/getEventsByUserId/3", "", "", nil)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on a REST read")
	}
	if resp, raw := servicetest.Do(t, "GET", g.url+"/getEventsByUserId/3", "", "", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 || raw != "" {
		t.Errorf("If-None-Match with the ETag: %d %q; want 304 and no body", resp.StatusCode, raw)
	}
	g.post(t, "/addEvent", `{"name":"Changes it","userId":"3"}`, nil, nil)
	if resp, _ := servicetest.Do(t, "GET", g.url+"/getEventsByUserId/3", "", "", map[string]string{"If-None-Match": etag}); resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Errorf("after a write: %d ETag %q; want 200 with a new ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	gq, _ := gqlGet(`{ user(id: "3") { events { id } } }`, nil)
	if resp, _ := gqlGet(`{ user(id: "3") { events { id } } }`, map[string]string{"If-None-Match": gq.Header.Get("ETag")}); resp.StatusCode != 304 {
		t.Errorf("GraphQL GET with its ETag: %d; want 304", resp.StatusCode)
	}
}
