package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// Lookups queued behind the upstream limit cost no goroutine each, through
// the whole gateway: 20 REST reads of users with 10 events, under a fixed
// limit of 4, leave 196 lookups waiting in the limiter's queue (as /readyz
// says) with far fewer goroutines than lookups, and all 20 answer in full.
func TestQueuedLookupsHoldNoGoroutinesThroughTheGateway(t *testing.T) {
	const users, perUser, limit = 20, 10, 4
	sim := eventsim.New(eventsim.Config{Users: users, EventsPerUser: perUser})
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/getEventById/") {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	cfg := servicetest.Config(t)
	cfg.Upstream.Client.MaxConcurrency, cfg.Upstream.Client.MinConcurrency = limit, limit
	a, err := newTestApp(cfg, up.URL, servicetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)

	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	results := make([]*httptest.ResponseRecorder, users)
	for i := range users {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/getEventsByUserId/u%d", i+1), nil))
			results[i] = rec
		})
	}
	type route struct{ Limit, InFlight, Waiting int }
	var last route
	testwait.For(t, func() bool {
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var ready struct {
			UpstreamConcurrency map[string]route `json:"upstreamConcurrency"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &ready) != nil {
			return false
		}
		last = ready.UpstreamConcurrency["getEventById"]
		return last.InFlight == limit && last.Waiting == users*perUser-limit
	})
	// Per read: its own goroutine, the loader's batch and a little of the
	// runtime's; the 4 calls in flight with their connections (about 70 in
	// all). One goroutine per queued lookup would add 196 more, two (the
	// design before) 392.
	if extra, most := runtime.NumGoroutine()-before, 3*users+30; extra > most {
		t.Errorf("%d goroutines for %d reads with %d lookups queued, want at most %d", extra, users, last.Waiting, most)
	}
	close(release)
	wg.Wait()
	for i, rec := range results {
		var events []struct{ ID string }
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &events) != nil || len(events) != perUser {
			t.Fatalf("read %d: %d %s", i, rec.Code, rec.Body)
		}
	}
}
