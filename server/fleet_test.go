package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/testwait"
)

// replica is one gateway process of a fleet.
type replica struct{ url string }

func (r replica) addEvent(key, userID string) (status int, body map[string]any, err error) {
	req, _ := http.NewRequest("POST", r.url+"/addEvent", strings.NewReader(`{"name":"Fleet","userId":"`+userID+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, err
}

func (r replica) userEvents(userID string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"query": `{ user(id: "` + userID + `") { events { id } } }`})
	resp, err := http.Post(r.url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// The fleet of the issue: 3 real gateway processes, one simulator and one
// Redis, driven the way a load balancer spreads a client's requests.
func TestFleetSharesStateThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 gateway processes")
	}
	rs := redistest.Start(t)
	sim, err := eventsim.Start(eventsim.Config{FailureCycle: true}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simAddr := strings.TrimPrefix(sim.URL, "http://")
	defer func() { _ = sim.Close(context.Background()) }()
	prefix := redistest.Prefix(t)
	var fleet []replica
	for i := 0; i < 3; i++ {
		_, addr, _, _ := startBinary(t, "EVENT_API_BASE_URL="+sim.URL, "REDIS_URL="+rs.URL(), "REDIS_KEY_PREFIX="+prefix,
			"SHUTDOWN_DRAIN_DELAY=0s", "UPSTREAM_RETRY_BASE=1ms", "UPSTREAM_RETRY_MAX=5ms")
		fleet = append(fleet, replica{url: "http://" + addr})
	}
	a, b, c := fleet[0], fleet[1], fleet[2]

	t.Run("the same key on every replica writes once", func(t *testing.T) {
		var mu sync.Mutex
		ids := map[any]int{}
		var g errgroup.Group
		for i := 0; i < 12; i++ {
			r := fleet[i%3]
			g.Go(func() error {
				status, body, err := r.addEvent("same-key-1", "1")
				if err != nil || status != 200 {
					return fmt.Errorf("%d %v %v", status, body, err)
				}
				mu.Lock()
				ids[body["event"].(map[string]any)["id"]]++
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		if n := sim.Count(eventsim.RouteAddEvent); n != 1 || len(ids) != 1 {
			t.Errorf("%d upstream writes, event ids %v; want 1 write and one id everywhere", n, ids)
		}
	})

	t.Run("a write on A is read on B at once", func(t *testing.T) {
		if _, before, err := b.userEvents("2"); err != nil || strings.Contains(before, "Fleet") {
			t.Fatalf("before: %s %v", before, err) // B now holds user 2 in its own memory
		}
		status, body, err := a.addEvent("", "2")
		if err != nil || status != 200 {
			t.Fatalf("write on A: %d %v %v", status, body, err)
		}
		id := body["event"].(map[string]any)["id"].(string)
		for _, r := range []replica{b, c} {
			if _, after, _ := r.userEvents("2"); !strings.Contains(after, id) {
				t.Errorf("read after the write: %s; want %s", after, id)
			}
		}
	})

	t.Run("a read seen on A is served by B while the upstream is down", func(t *testing.T) {
		if status, body, err := a.userEvents("3"); err != nil || status != 200 || !strings.Contains(body, "event-4") {
			t.Fatalf("read on A: %d %s %v", status, body, err)
		}
		_ = sim.Close(context.Background())
		status, body, err := b.userEvents("3")
		if err != nil || status != 200 || !strings.Contains(body, "event-4") || strings.Contains(body, "errors") {
			t.Errorf("read on B with the upstream down: %d %s %v", status, body, err)
		}
		if sim, err = eventsim.Start(eventsim.Config{FailureCycle: true}, simAddr); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the failure cycle opens one circuit for the whole fleet", func(t *testing.T) {
		for i := 0; i < 30; i++ { // calls 1-5 succeed upstream, 6-15 fail
			if _, _, err := fleet[i%3].addEvent("", "1"); err != nil {
				t.Fatal(err)
			}
		}
		// 5 successes, then failures until the shared circuit opens (3); the
		// run is shorter than the 10 s open period, so no probe.
		if n := sim.Count(eventsim.RouteAddEvent); n > 5+3+1 {
			t.Errorf("%d upstream addEvent calls; want at most 9 for the fleet (each replica on its own would allow 14)", n)
		}
		_, body, _ := c.addEvent("", "1")
		if body["circuitBreakerState"] != "OPEN" {
			t.Errorf("replica C after the others' failures: %v; want the circuit OPEN", body)
		}
	})

	t.Run("Redis down: reads go on, keyed writes are refused, nothing is duplicated", func(t *testing.T) {
		sim.ResetData()
		rs.Stop()
		if status, body, err := b.userEvents("1"); err != nil || status != 200 || strings.Contains(body, "errors") {
			t.Errorf("read with Redis down: %d %s %v", status, body, err)
		}
		before := sim.Count(eventsim.RouteAddEvent)
		for _, r := range fleet {
			status, body, err := r.addEvent("key-while-down", "1")
			if err != nil || status != 503 || body["retryAfter"] == nil {
				t.Errorf("keyed write with Redis down: %d %v %v; want 503 with retryAfter", status, body, err)
			}
		}
		if n := sim.Count(eventsim.RouteAddEvent); n != before {
			t.Errorf("%d upstream writes for refused keyed writes; want 0", n-before)
		}
		if status, body, err := a.addEvent("", "1"); err != nil || status != 200 {
			t.Errorf("unkeyed write with Redis down: %d %v %v; want it to go through", status, body, err)
		}
	})

	t.Run("Redis back: shared again without a restart", func(t *testing.T) {
		rs.Restart()
		sim.ResetData()
		before := sim.Count(eventsim.RouteAddEvent)
		for i, r := range fleet {
			testwait.Until(t, "keyed writes to work again", func() bool {
				status, _, err := r.addEvent(fmt.Sprint("probe-after-restart-", i), "3")
				return err == nil && status == 200
			})
		}
		sim.ResetData()
		before = sim.Count(eventsim.RouteAddEvent)
		if status, body, err := a.addEvent("key-after-restart", "1"); err != nil || status != 200 {
			t.Fatalf("keyed write on A: %d %v %v", status, body, err)
		}
		status, body, err := b.addEvent("key-after-restart", "1")
		if err != nil || status != 200 {
			t.Fatalf("same key on B: %d %v %v", status, body, err)
		}
		if n := sim.Count(eventsim.RouteAddEvent) - before; n != 1 {
			t.Errorf("%d upstream writes for one key on two replicas; want 1", n)
		}
	})
}
