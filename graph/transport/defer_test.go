package transport_test

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

const deferQuery = `{ user(id: "1") { userName ... @defer { events { id name } } } }`

// A client that does not accept incremental delivery gets the complete
// result in one answer, never "hasNext": true with nothing after it.
func TestDeferWithoutIncrementalDeliveryIsInlined(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	for _, accept := range []string{"", "application/json", "application/graphql-response+json"} {
		resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(deferQuery), map[string]string{"Accept": accept})
		if resp.StatusCode != 200 || strings.Contains(body, "hasNext") || !strings.Contains(body, "event-3") || !strings.Contains(body, "john_doe") {
			t.Errorf("Accept %q: %d %s; want the whole result at once", accept, resp.StatusCode, body)
		}
	}
}

// multipart/mixed (Apollo Client, urql): the user's name first, the events
// in a later part, each part JSON, the last saying hasNext false.
func TestDeferOverMultipartMixed(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(deferQuery),
		map[string]string{"Accept": "multipart/mixed;deferSpec=20220824, application/json"})
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v\n%s", resp.Header.Get("Content-Type"), err, body)
	}
	r := multipart.NewReader(strings.NewReader(body), params["boundary"])
	var parts []map[string]any
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part %d: %v\n%s", len(parts), err, body)
		}
		var v map[string]any
		if err := json.NewDecoder(p).Decode(&v); err != nil {
			t.Fatalf("part %d is not JSON: %v", len(parts), err)
		}
		parts = append(parts, v)
	}
	if len(parts) < 2 {
		t.Fatalf("%d parts; want the initial one and a deferred one:\n%s", len(parts), body)
	}
	first, last := parts[0], parts[len(parts)-1]
	firstJSON, _ := json.Marshal(first)
	if first["hasNext"] != true || !strings.Contains(string(firstJSON), "john_doe") || strings.Contains(string(firstJSON), "event-3") {
		t.Errorf("first part %s; want the name, hasNext true, no events yet", firstJSON)
	}
	rest, _ := json.Marshal(parts[1:])
	if last["hasNext"] != false || !strings.Contains(string(rest), "event-3") {
		t.Errorf("later parts %s; want the events and hasNext false at the end", rest)
	}
}

// SSE (graphql-sse's distinct connections mode): next events, then complete.
func TestDeferOverSSE(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(deferQuery), map[string]string{"Accept": "text/event-stream"})
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") ||
		strings.Count(body, "event: next") < 2 || !strings.Contains(body, "event: complete") || !strings.Contains(body, "event-3") {
		t.Errorf("%d %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// A deferred part keeps its error, with its path.
func TestDeferredErrorsKeepTheirPath(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	g.Sim.FailEvent("event-3", 500, -1)
	_, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(deferQuery),
		map[string]string{"Accept": "multipart/mixed;deferSpec=20220824"})
	if !strings.Contains(body, `"path":["user","events"]`) || !strings.Contains(body, "UPSTREAM_UNAVAILABLE") {
		t.Errorf("deferred failure:\n%s", body)
	}
}

// Clients that list the incremental types on every request (urql, GraphiQL)
// get a plain JSON answer for a query without @defer, not a one-part stream.
func TestPlainQueriesAreNotStreamedToClientsThatAcceptStreams(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	for _, accept := range []string{
		"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed",
		"application/json, multipart/mixed",
	} {
		resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(`{ user(id: "1") { userName } }`), map[string]string{"Accept": accept})
		if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") || strings.HasPrefix(ct, "text/event-stream") || !strings.Contains(body, "john_doe") {
			t.Errorf("Accept %q: %s %s; want a plain JSON answer", accept, ct, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Accept %q: Cache-Control %q; want no-store for a POST", accept, cc)
		}
	}
}

// A subscription over plain HTTP is refused with a code, not answered with
// its first event (or null) nor cut off silently at the request deadline.
func TestSubscriptionsNeedAStream(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	for _, accept := range []string{"application/json", "multipart/mixed;deferSpec=20220824, application/json"} {
		resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(`subscription { eventAdded { id } }`), map[string]string{"Accept": accept})
		if resp.StatusCode != 200 || !strings.Contains(body, `"code":"SUBSCRIPTION_NEEDS_STREAM"`) || strings.Contains(body, `"data"`) {
			t.Errorf("Accept %q: %d %s; want SUBSCRIPTION_NEEDS_STREAM", accept, resp.StatusCode, body)
		}
	}
}
