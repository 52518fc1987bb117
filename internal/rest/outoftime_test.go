package rest_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
)

// hangingUpstream never answers the routes hang names (it holds them until
// the gateway gives up) and passes the others to sim.
func hangingUpstream(sim func() *eventsim.Sim, hang ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, prefix := range hang {
			if strings.HasPrefix(r.URL.Path, prefix) {
				// The server notices the client leave only once the body is read.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
				return
			}
		}
		sim().ServeHTTP(w, r)
	})
}

// POST /addEvent against an upstream that does not answer is 503 with
// Retry-After and the original error body, never 504, whichever runs out
// first — the request's deadline (REQUEST_TIMEOUT) or an attempt's
// (UPSTREAM_TIMEOUT) — during the user check or the write, with the entity
// cache on or off.
func TestRESTAddEventOutOfTimeIs503(t *testing.T) {
	const request = 300 * time.Millisecond
	tests := []struct {
		name    string
		hang    string
		attempt time.Duration
	}{
		{"user check, request deadline first", "/getUserById/", 2 * time.Second},
		{"user check, attempts time out first", "/getUserById/", 100 * time.Millisecond},
		{"write, request deadline first", "/addEvent", 2 * time.Second},
		{"write, its attempt times out first", "/addEvent", 100 * time.Millisecond},
	}
	for _, tt := range tests {
		for _, cache := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, cache %v", tt.name, cache), func(t *testing.T) {
				var g *gateway
				g = newGateway(t, eventsim.Config{}, func(c *config.Config) {
					c.Cache.Enabled = cache
					c.HTTP.RequestTimeout = request
					c.Upstream.Client.Timeout = tt.attempt
					c.Breaker.FailureThreshold = 1000 // every request reaches the upstream
				}, withUpstream(hangingUpstream(func() *eventsim.Sim { return g.sim }, tt.hang)))
				// Several, because which layer notices the deadline first
				// is a race; every one of them must be the typed answer.
				for i := range 4 {
					var b map[string]any
					resp := g.post(t, "/addEvent", `{"name":"n","userId":"1"}`, nil, &b)
					ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
					if resp.StatusCode != http.StatusServiceUnavailable || err != nil || ra < 1 {
						t.Fatalf("request %d: %d Retry-After %q %v; want 503 with Retry-After", i+1, resp.StatusCode, resp.Header.Get("Retry-After"), b)
					}
					if b["success"] != false || b["error"] != "Service temporarily unavailable" || b["circuitBreakerState"] != "CLOSED" ||
						fmt.Sprint(b["retryAfter"]) != strconv.Itoa(ra) {
						t.Fatalf("request %d: body %v", i+1, b)
					}
				}
			})
		}
	}
}
