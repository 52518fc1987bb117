package eventsim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const overBody = `{"error":"Service temporarily unavailable","message":"Event API is over capacity","success":false}`

type answer struct {
	status     int
	body       string
	retryAfter string
	err        error
}

func send(ctx context.Context, method, url, body string) answer {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Get("Retry-After"), err}
}

func isOverloaded(a answer) bool {
	return a.err == nil && a.status == http.StatusServiceUnavailable && a.body == overBody && a.retryAfter == "1"
}

// n lookups gathered by HoldEvents(n): all n are in flight at once before
// any admitted one answers, so exactly those beyond the limit get 503.
func TestCapacityShedsConcurrentLookupsBeyondTheLimit(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		n       int
		want503 int
	}{
		{"capacity 0 is unlimited", Config{}, 5, 0},
		{"capacity 0 with the defaults", Defaults(), 5, 0},
		{"capacity 2, 5 in flight: one beyond 2×2", Config{Capacity: 2}, 5, 1},
		{"capacity 2, factor 2 explicit", Config{Capacity: 2, OverloadFactor: 2}, 5, 1},
		{"capacity 2, 4 in flight: at the limit", Config{Capacity: 2}, 4, 0},
		{"capacity 2, factor 1.5: limit 3", Config{Capacity: 2, OverloadFactor: 1.5}, 4, 1},
		{"capacity 4: slower, not shed", Config{Capacity: 4}, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.NetworkErrorRate = 0
			s := New(tt.cfg)
			srv := httptest.NewServer(s)
			defer srv.Close()
			s.HoldEvents(tt.n)
			answers := make([]answer, tt.n)
			var wg sync.WaitGroup
			for i := range tt.n {
				wg.Go(func() {
					answers[i] = send(context.Background(), http.MethodGet, fmt.Sprintf("%s/getEventById/event-%d", srv.URL, i%4+1), "")
				})
			}
			wg.Wait()
			got503 := 0
			for i, a := range answers {
				switch {
				case isOverloaded(a):
					got503++
				case a.err != nil || a.status != http.StatusOK || !strings.Contains(a.body, `"id":"event-`):
					t.Errorf("lookup %d: %+v, want 200 with the event or 503 over capacity", i, a)
				}
			}
			if got503 != tt.want503 || s.Overloaded() != tt.want503 {
				t.Errorf("%d answered 503, Overloaded() %d; want %d", got503, s.Overloaded(), tt.want503)
			}
			st := getStats(t, srv.URL)
			if st.Overloaded != tt.want503 || st.Calls[RouteGetEventByID] != tt.n || st.PeakInFlight != tt.n {
				t.Errorf("stats %+v, want overloaded %d, %d calls, peak %d", st, tt.want503, tt.n, tt.n)
			}
			if _, body := do(t, http.MethodGet, srv.URL+StatsPath, ""); !strings.Contains(body, fmt.Sprintf(`"overloaded":%d`, tt.want503)) {
				t.Errorf("GET %s: %s lacks \"overloaded\":%d", StatsPath, body, tt.want503)
			}
		})
	}
}

// Over capacity every route is shed before its own behaviour: the addEvent
// failure cycle, dropped connections and injected failures are left alone.
func TestCapacityShedsEveryRouteWithoutUsingUpFaults(t *testing.T) {
	s := New(Config{Capacity: 2, OverloadFactor: 1, EventDelay: time.Minute, FailureCycle: true})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.DropNext(1)
	s.FailEvent("event-3", http.StatusInternalServerError, 1)

	// Two slow lookups fill the limit and stay until cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	var held sync.WaitGroup
	for _, id := range []string{"event-1", "event-2"} {
		held.Go(func() { send(ctx, http.MethodGet, srv.URL+"/getEventById/"+id, "") })
	}
	waitInFlight(t, srv.URL, 2)

	shed := []struct{ method, path, body string }{
		{http.MethodGet, "/getEventById/event-3", ""},
		{http.MethodGet, "/getUsers", ""},
		{http.MethodGet, "/getEvents", ""},
		{http.MethodGet, "/getUserById/1", ""},
	}
	for i := range 5 {
		shed = append(shed, struct{ method, path, body string }{http.MethodPost, "/addEvent", fmt.Sprintf(`{"id":"shed-%d","name":"n","userId":"1"}`, i)})
	}
	for _, r := range shed {
		if a := send(context.Background(), r.method, srv.URL+r.path, r.body); !isOverloaded(a) {
			t.Errorf("%s %s with the limit in flight: %+v, want 503 over capacity with Retry-After: 1", r.method, r.path, a)
		}
	}
	if s.Overloaded() != len(shed) || s.Count(RouteAddEvent) != 5 {
		t.Errorf("Overloaded() %d, addEvent calls %d; want %d and 5 (shed calls are calls)", s.Overloaded(), s.Count(RouteAddEvent), len(shed))
	}
	cancel()
	held.Wait()
	waitInFlight(t, srv.URL, 0)

	// Below capacity again: the faults injected before are still pending and
	// the failure cycle starts at call 1.
	// A fresh connection: the transport would retry a GET dropped on a reused one.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Get(srv.URL + "/getUsers"); err == nil {
		resp.Body.Close()
		t.Error("DropNext(1) was used up by a shed call")
	}
	if a := send(context.Background(), http.MethodGet, srv.URL+"/getUsers", ""); a.status != http.StatusOK {
		t.Errorf("getUsers after the drop: %+v", a)
	}
	s.HoldEvents(1) // answers the next lookup at once instead of after EventDelay
	if a := send(context.Background(), http.MethodGet, srv.URL+"/getEventById/event-3", ""); a.status != http.StatusInternalServerError {
		t.Errorf("event-3 after the overload: %+v, want the injected 500 still pending", a)
	}
	for i := range 6 {
		want := http.StatusOK
		if i == 5 {
			want = http.StatusServiceUnavailable
		}
		a := send(context.Background(), http.MethodPost, srv.URL+"/addEvent", fmt.Sprintf(`{"id":"ok-%d","name":"n","userId":"1"}`, i))
		if a.status != want || isOverloaded(a) {
			t.Errorf("addEvent %d after the overload: %+v, want %d from the failure cycle", i+1, a, want)
		}
	}
	if len(s.UserEvents("1")) != 2+5 {
		t.Errorf("user 1 events %v, want the 2 seed + 5 stored (none of the shed ones)", s.UserEvents("1"))
	}
	if s.Overloaded() != len(shed) {
		t.Errorf("Overloaded() %d after recovery, want still %d", s.Overloaded(), len(shed))
	}
	s.ResetStats()
	if s.Overloaded() != 0 || s.Stats().Overloaded != 0 {
		t.Errorf("ResetStats left Overloaded() %d", s.Overloaded())
	}
}

func TestCapacityModelArithmetic(t *testing.T) {
	const d = 100 * time.Millisecond
	tests := []struct {
		cfg       Config
		inFlight  int
		wantDelay time.Duration
		wantLimit int
	}{
		{Config{EventDelay: d}, 1000, d, 0},
		{Config{EventDelay: d, Capacity: 4}, 1, d, 8},
		{Config{EventDelay: d, Capacity: 4}, 4, d, 8},
		{Config{EventDelay: d, Capacity: 4}, 6, 150 * time.Millisecond, 8},
		{Config{EventDelay: d, Capacity: 4}, 8, 200 * time.Millisecond, 8},
		{Config{EventDelay: d, Capacity: 4, OverloadFactor: 3}, 12, 300 * time.Millisecond, 12},
		{Config{EventDelay: d, Capacity: 3, OverloadFactor: 1.5}, 4, 133333333, 4},
		{Config{EventDelay: d, Capacity: 4, OverloadFactor: 0.5}, 4, d, 4},
		{Config{Capacity: 4}, 8, 0, 8},
	}
	for _, tt := range tests {
		if got := tt.cfg.eventDelay(tt.inFlight); got != tt.wantDelay {
			t.Errorf("%+v with %d in flight: delay %v, want %v", tt.cfg, tt.inFlight, got, tt.wantDelay)
		}
		if got := tt.cfg.overloadLimit(); got != tt.wantLimit {
			t.Errorf("%+v: limit %d, want %d", tt.cfg, got, tt.wantLimit)
		}
	}
}
