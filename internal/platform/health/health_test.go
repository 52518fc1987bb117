package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pings int
	var pingErr error
	var sawDeadline bool
	c := New(func(ctx context.Context) error {
		pings++
		_, sawDeadline = ctx.Deadline()
		return pingErr
	}, func() string { return "CLOSED" }, 5*time.Second, time.Second, func() time.Time { return now })

	ready := func() (int, readiness) {
		t.Helper()
		rec := httptest.NewRecorder()
		c.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
		var body readiness
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("readyz body %q: %v", rec.Body, err)
		}
		return rec.Code, body
	}

	steps := []struct {
		name       string
		advance    time.Duration
		pingErr    error
		drain      bool
		wantStatus int
		wantBody   string
		wantPings  int
	}{
		{"first probe pings", 0, nil, false, 200, "ready", 1},
		{"within the cache period no ping, even if the upstream died", 4 * time.Second, errors.New("refused"), false, 200, "ready", 1},
		{"after the cache period the failure shows", time.Second, errors.New("refused"), false, 503, "not ready", 2},
		{"recovered", 5 * time.Second, nil, false, 200, "ready", 3},
		{"draining wins over a reachable upstream", 0, nil, true, 503, "draining", 3},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		pingErr = s.pingErr
		if s.drain {
			c.Drain()
		}
		code, body := ready()
		if code != s.wantStatus || body.Status != s.wantBody || pings != s.wantPings {
			t.Errorf("%s: %d %q after %d pings; want %d %q after %d", s.name, code, body.Status, pings, s.wantStatus, s.wantBody, s.wantPings)
		}
		if body.CircuitBreaker != "CLOSED" || body.Upstream.Reachable != (s.wantBody != "not ready") {
			t.Errorf("%s: body %+v", s.name, body)
		}
	}
	if !sawDeadline {
		t.Error("the upstream ping had no deadline")
	}

	rec := httptest.NewRecorder()
	c.Live(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("healthz while draining: %d; want 200 (alive until the process exits)", rec.Code)
	}
}

// With stale reads an unreachable upstream degrades the gateway; it stays
// ready (a fleet sharing the dependency must not turn unready at once), and
// draining still wins.
func TestReadinessWithStaleReads(t *testing.T) {
	c := New(func(context.Context) error { return errors.New("refused") }, func() string { return "OPEN" }, 0, time.Second, nil)
	c.ServesStaleReads()
	rec := httptest.NewRecorder()
	c.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	var body readiness
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 200 || body.Status != "degraded" || body.Upstream.Reachable || !body.Upstream.Degraded {
		t.Errorf("%d %+v; want 200 degraded", rec.Code, body)
	}
	c.Drain()
	rec = httptest.NewRecorder()
	c.Ready(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Errorf("draining: %d; want 503", rec.Code)
	}
}
