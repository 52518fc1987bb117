package rest_test

import (
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// The request deadline holds on REST whatever the Accept header says: an
// Accept that lists text/event-stream is no stream here.
func TestRESTDeadlineHoldsWhateverTheAccept(t *testing.T) {
	g := newGateway(t, eventsim.Config{EventDelay: 5 * time.Second}, func(c *config.Config) {
		c.HTTP.RequestTimeout = 300 * time.Millisecond
	})
	resp, body := servicetest.Do(t, "GET", g.url+"/getEventsByUserId/1", "", "", map[string]string{"Accept": "text/event-stream, application/json"})
	if resp.StatusCode != 504 {
		t.Errorf("%d %s; want 504 at the deadline", resp.StatusCode, body)
	}
}
