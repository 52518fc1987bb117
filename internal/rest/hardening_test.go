package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
)

// REST ids are one path segment: a path with . or .. segments is refused,
// not redirected to another route, and an unknown id is not echoed whole.
func TestRESTPathsAndIDs(t *testing.T) {
	g := newGateway(t, eventsim.Config{}, nil)
	long := strings.Repeat("x", 100*1024)
	tests := []struct {
		name, path string
		status     int
		msgPart    string
	}{
		{"dot-dot to another route", "/getEventsByUserId/../getUsers", 400, "path"},
		{"encoded dot-dot", "/getEventsByUserId/%2e%2e/getUsers", 400, "path"},
		{"dot segment", "/getEventsByUserId/./1", 400, "path"},
		{"double slash", "/getEventsByUserId//1", 400, "path"},
		{"encoded slash in the id", "/getEventsByUserId/1%2Fevents", 400, "id: must be one path segment"},
		{"control character", "/getEventsByUserId/a%0Ab", 400, "id: must not contain control characters"},
		{"invalid UTF-8", "/getEventsByUserId/%FF", 400, "id: must be valid UTF-8"},
		{"id of 100 KB", "/getEventsByUserId/" + long, 400, "id: must be at most"},
		{"unknown id", "/getEventsByUserId/" + strings.Repeat("y", 300), 404, "no user with id yyyy"},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", g.url+tt.path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			msg, _ := body["message"].(string)
			if resp.StatusCode != tt.status || !strings.Contains(msg, tt.msgPart) || body["success"] != false {
				t.Errorf("%d %v; want %d with %q", resp.StatusCode, body, tt.status, tt.msgPart)
			}
			if len(msg) > 200 {
				t.Errorf("message of %d bytes echoes the id", len(msg))
			}
		})
	}
	if n := g.sim.Count(eventsim.RouteGetUsers); n != 0 {
		t.Errorf("a refused path reached getUsers %d times", n)
	}
}
