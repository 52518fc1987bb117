package eventsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
)

func getStats(t *testing.T, base string) Stats {
	t.Helper()
	resp, err := http.Get(base + StatsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %q", StatsPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func addEvent(t *testing.T, base, id string) int {
	t.Helper()
	status, _ := do(t, http.MethodPost, base+"/addEvent", `{"id":"`+id+`","name":"n","userId":"1"}`)
	return status
}

// waitInFlight polls /__stats until n requests are in flight.
func waitInFlight(t *testing.T, base string, n int) {
	t.Helper()
	testwait.Until(t, fmt.Sprintf("%d requests in flight", n), func() bool { return getStats(t, base).InFlight == n })
}

func TestStatsCountRealCalls(t *testing.T) {
	s := New(Config{EventDelay: time.Second})
	srv := httptest.NewServer(s)
	defer srv.Close()

	for range 3 {
		do(t, http.MethodGet, srv.URL+"/getUsers", "")
	}
	do(t, http.MethodGet, srv.URL+"/getUserById/1", "")
	addEvent(t, srv.URL, "a")
	addEvent(t, srv.URL, "b")
	var wg sync.WaitGroup
	for _, id := range []string{"event-1", "event-2", "event-3", "event-4"} {
		wg.Go(func() { do(t, http.MethodGet, srv.URL+"/getEventById/"+id, "") })
	}
	waitInFlight(t, srv.URL, 4) // the in-flight figure is live
	wg.Wait()

	want := Stats{
		Calls: map[string]int{
			RouteGetUsers: 3, RouteGetUserByID: 1, RouteGetEvents: 0, RouteGetEventByID: 4, RouteAddEvent: 2,
		},
		PeakInFlight: 4,
		InFlight:     0,
		PeakInFlightByRoute: map[string]int{
			RouteGetUsers: 1, RouteGetUserByID: 1, RouteGetEvents: 0, RouteGetEventByID: 4, RouteAddEvent: 1,
		},
	}
	// Reading the stats (several times above) is not a call.
	for range 2 {
		if got := getStats(t, srv.URL); !reflect.DeepEqual(got, want) {
			t.Fatalf("stats %+v, want %+v", got, want)
		}
	}
	if !reflect.DeepEqual(s.Stats(), want) {
		t.Errorf("Sim.Stats %+v, want %+v", s.Stats(), want)
	}
	if s.Count(RouteGetEventByID) != 4 || s.PeakInFlight(RouteGetEventByID) != 4 {
		t.Errorf("Count/PeakInFlight disagree with /__stats")
	}

	// The JSON names every route, zeros included.
	_, body := do(t, http.MethodGet, srv.URL+StatsPath, "")
	for _, key := range []string{`"calls":{`, `"getEvents":0`, `"peakInFlight":4`, `"inFlight":0`, `"peakInFlightByRoute":{`} {
		if !strings.Contains(body, key) {
			t.Errorf("body %s lacks %s", body, key)
		}
	}
}

func TestStatsAndResetAreNotDelayedOrDropped(t *testing.T) {
	s := New(Config{NetworkErrorRate: 1, EventDelay: time.Minute, FailureCycle: true, FailureDelay: time.Minute})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.DropNext(100)
	start := time.Now()
	for range 3 {
		getStats(t, srv.URL)
		if status, _ := do(t, http.MethodPost, srv.URL+ResetPath, ""); status != http.StatusNoContent {
			t.Fatalf("POST %s: %d", ResetPath, status)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stats and reset took %s", d)
	}
	if st := getStats(t, srv.URL); st.PeakInFlight != 0 || st.Calls[RouteGetUsers] != 0 {
		t.Errorf("simulator routes were counted: %+v", st)
	}
}

func TestStatsRoutesRejectOtherMethods(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	tests := []struct{ method, path, allow string }{
		{http.MethodPost, StatsPath, "GET, HEAD"},
		{http.MethodDelete, StatsPath, "GET, HEAD"},
		{http.MethodGet, ResetPath, "POST"},
		{http.MethodPut, ResetPath, "POST"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), tt.allow)
		}
	}
	if status, body := do(t, http.MethodPost, srv.URL+ResetPath+"?data=maybe", ""); status != http.StatusBadRequest ||
		!strings.Contains(body, `data=\"maybe\": want on or off`) {
		t.Errorf("bad data flag: %d %s", status, body)
	}
}

func TestResetKeepsDataUnlessAsked(t *testing.T) {
	s := New(Config{FailureCycle: true})
	srv := httptest.NewServer(s)
	defer srv.Close()
	for i := range 5 {
		if status := addEvent(t, srv.URL, "new-"+string(rune('a'+i))); status != http.StatusOK {
			t.Fatalf("add %d: %d", i+1, status)
		}
	}
	s.FailEvent("event-2", http.StatusInternalServerError, -1)

	// Counters only: the data, the failure cycle and injected faults stay.
	if status, _ := do(t, http.MethodPost, srv.URL+ResetPath, ""); status != http.StatusNoContent {
		t.Fatalf("reset: %d", status)
	}
	if st := getStats(t, srv.URL); st.Calls[RouteAddEvent] != 0 || st.PeakInFlight != 0 || st.PeakInFlightByRoute[RouteAddEvent] != 0 {
		t.Errorf("after reset: %+v", st)
	}
	if n := len(s.UserEvents("1")); n != 2+5 {
		t.Errorf("user 1 has %d events after a counters reset, want 7", n)
	}
	if status := addEvent(t, srv.URL, "sixth"); status != http.StatusServiceUnavailable {
		t.Errorf("6th addEvent after a counters reset: %d, want 503 (the cycle goes on)", status)
	}
	if status, _ := do(t, http.MethodGet, srv.URL+"/getEventById/event-2", ""); status != http.StatusInternalServerError {
		t.Errorf("injected failure lost on a counters reset: %d", status)
	}

	// ?data=1: seed data back, cycle restarted, faults gone, counters zero.
	if status, _ := do(t, http.MethodPost, srv.URL+ResetPath+"?data=1", ""); status != http.StatusNoContent {
		t.Fatalf("reset data: %d", status)
	}
	if got := s.UserEvents("1"); !reflect.DeepEqual(got, []string{"event-1", "event-3"}) {
		t.Errorf("user 1 events %v after a data reset, want the seed's", got)
	}
	if status, body := do(t, http.MethodGet, srv.URL+"/getEventById/new-a", ""); status != http.StatusOK || body != "" {
		t.Errorf("added event survived a data reset: %d %q", status, body)
	}
	if status, body := do(t, http.MethodGet, srv.URL+"/getEventById/event-2", ""); status != http.StatusOK || !strings.Contains(body, `"id":"event-2"`) {
		t.Errorf("event-2 after a data reset: %d %s", status, body)
	}
	if status := addEvent(t, srv.URL, "first-again"); status != http.StatusOK {
		t.Errorf("1st addEvent after a data reset: %d, want 200 (the cycle restarts)", status)
	}
	want := map[string]int{RouteGetUsers: 0, RouteGetUserByID: 0, RouteGetEvents: 0, RouteGetEventByID: 2, RouteAddEvent: 1}
	if st := getStats(t, srv.URL); !reflect.DeepEqual(st.Calls, want) {
		t.Errorf("calls after a data reset %v, want %v", st.Calls, want)
	}
}

func TestResetWithRequestsInFlight(t *testing.T) {
	s := New(Config{EventDelay: time.Second})
	srv := httptest.NewServer(s)
	defer srv.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(t, http.MethodGet, srv.URL+"/getEventById/event-1", "")
	}()
	waitInFlight(t, srv.URL, 1)
	s.ResetStats()
	st := getStats(t, srv.URL)
	if st.Calls[RouteGetEventByID] != 0 || st.InFlight != 1 || st.PeakInFlight != 1 || st.PeakInFlightByRoute[RouteGetEventByID] != 1 {
		t.Errorf("reset during a call: %+v, want 0 calls, 1 in flight, peak 1", st)
	}
	<-done
	st = getStats(t, srv.URL)
	if st.InFlight != 0 || st.PeakInFlight != 1 {
		t.Errorf("after the call: %+v, want 0 in flight, peak 1", st)
	}
	s.ResetStats()
	if st := s.Stats(); st.PeakInFlight != 0 || st.PeakInFlightByRoute[RouteGetEventByID] != 0 {
		t.Errorf("idle reset: %+v, want peaks 0", st)
	}
}

func TestStartedServerServesStats(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0"} {
		srv, err := Start(Config{}, addr)
		if err != nil {
			t.Fatal(err)
		}
		if addr == ":0" && !strings.HasPrefix(srv.URL, "http://localhost:") {
			t.Errorf("listening on every interface: URL %s, want http://localhost:port", srv.URL)
		}
		do(t, http.MethodGet, srv.URL+"/getUsers", "")
		if st := getStats(t, srv.URL); st.Calls[RouteGetUsers] != 1 {
			t.Errorf("%s: stats %+v, want 1 getUsers", addr, st)
		}
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}
}
