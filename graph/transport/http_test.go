package transport_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

func TestMediaTypes(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	tests := []struct {
		accept, query string
		status        int
		contentType   string
	}{
		{"application/graphql-response+json", "{ users { id } }", 200, "application/graphql-response+json"},
		{"application/graphql-response+json", "{ users { id ", 400, "application/graphql-response+json"},
		{"application/graphql-response+json, application/json;q=0.9", "{ nope }", 400, "application/graphql-response+json"},
		{"application/json", "{ users { id } }", 200, "application/json"},
		{"", "{ users { id } }", 200, "application/json"},
	}
	for _, tt := range tests {
		resp, _ := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(tt.query), map[string]string{"Accept": tt.accept})
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.contentType {
			t.Errorf("Accept %q, %q: %d %s; want %d %s", tt.accept, tt.query, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	big := `{"query":"{ users { id } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
	if resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", big, nil); resp.StatusCode != 413 || !strings.Contains(body, "body: must be at most 1048576 bytes") {
		t.Errorf("large body: %d %.200s", resp.StatusCode, body)
	}
	// Without a Content-Length (chunked), the limit holds too.
	req, _ := http.NewRequest("POST", g.URL+"/graphql", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked large body: %d, want 413", resp.StatusCode)
	}
	long := g.URL + "/graphql?query=" + url.QueryEscape("{ users { id } }") + "&pad=" + strings.Repeat("y", 9000)
	if resp, body := servicetest.Do(t, "GET", long, "", "", map[string]string{"Apollo-Require-Preflight": "1"}); resp.StatusCode != 414 || !strings.Contains(body, "query string: must be at most 8192 bytes") {
		t.Errorf("long query string: %d %s", resp.StatusCode, body)
	}
}
