package transport_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// The request deadline holds for every Accept: urql and GraphiQL list
// text/event-stream on every request, and a plain query must still end at
// the deadline, with the timeout's code, not when the upstream answers.
func TestDeadlineHoldsWhateverTheAccept(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 5 * time.Second}, func(c *config.Config) {
		c.HTTP.RequestTimeout = 300 * time.Millisecond
	})
	for _, accept := range []string{
		"application/graphql-response+json, application/json, multipart/mixed, text/event-stream", // urql
		"text/event-stream",
		"application/json, multipart/mixed",
	} {
		resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(`{ event(id: "event-1") { id } }`),
			map[string]string{"Accept": accept})
		var got servicetest.Response
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("Accept %q: %d %q is not one JSON answer: %v", accept, resp.StatusCode, body, err)
		}
		if len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != "UPSTREAM_TIMEOUT" {
			t.Errorf("Accept %q: %s; want the deadline's UPSTREAM_TIMEOUT", accept, body)
		}
	}
}

// A deferred answer whose parts are not ready at the deadline ends within
// it: a last part with a REQUEST_TIMEOUT error and hasNext false.
func TestDeferredAnswerEndsAtTheDeadline(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: 5 * time.Second}, func(c *config.Config) {
		c.HTTP.RequestTimeout = 300 * time.Millisecond
	})
	for _, accept := range []string{"multipart/mixed;deferSpec=20220824, application/json", "text/event-stream"} {
		req, _ := http.NewRequest("POST", g.URL+"/graphql", strings.NewReader(servicetest.GraphQLBody(`{ user(id: "1") { userName ... @defer { events { id } } } }`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		resp, err := (&http.Client{Timeout: testwait.Limit}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		parts := readParts(t, resp)
		resp.Body.Close()
		all, _ := json.Marshal(parts)
		last := parts[len(parts)-1]
		if len(parts) < 2 || last["hasNext"] != false || !strings.Contains(string(all), `"REQUEST_TIMEOUT"`) || !strings.Contains(string(all), "john_doe") {
			t.Errorf("Accept %q: %s; want the first part, then hasNext false with REQUEST_TIMEOUT", accept, all)
		}
	}
}
