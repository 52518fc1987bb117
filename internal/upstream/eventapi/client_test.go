package eventapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/adaptivelimit"
)

func newClient(t *testing.T, url string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: url, Timeout: time.Second, Retry: Retry{MaxRetries: 3}, MaxConcurrency: 64}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func simServer(t *testing.T, cfg eventsim.Config) (*eventsim.Sim, string) {
	t.Helper()
	s := eventsim.New(cfg)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// gate holds an upstream's requests: each reports its path on arrived as it
// arrives, then waits for open (or for its client to give up) before the
// simulator serves it. A test knows a call is in flight, and keeps it in
// flight, for as long as it needs to, whatever the load.
type gate struct {
	arrived chan string
	release chan struct{}
	once    sync.Once
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// gatedSimServer is simServer behind a gate.
func gatedSimServer(t *testing.T, cfg eventsim.Config) (*eventsim.Sim, string, *gate) {
	t.Helper()
	s := eventsim.New(cfg)
	g := &gate{arrived: make(chan string, 256), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case g.arrived <- r.URL.Path:
		default:
		}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.open) // runs first: nothing is still held when the server closes
	return s, srv.URL, g
}

func TestRetriesRecoverDroppedConnections(t *testing.T) {
	tests := []struct {
		drops, retries int
		wantErr        bool
		wantCalls      int
	}{
		{drops: 0, retries: 3, wantCalls: 1},
		{drops: 3, retries: 3, wantCalls: 4},
		{drops: 4, retries: 3, wantErr: true, wantCalls: 4},
		{drops: 1, retries: 0, wantErr: true, wantCalls: 1},
	}
	for _, tt := range tests {
		sim, url := simServer(t, eventsim.Config{})
		var retries atomic.Int32
		c := newClient(t, url, func(c *Config) {
			c.Retry.MaxRetries = tt.retries
			c.Hooks.Retry = func(string) { retries.Add(1) }
		})
		sim.DropNext(tt.drops)
		users, err := c.Users(context.Background())
		if tt.wantErr {
			var ue *Error
			if !errors.As(err, &ue) || ue.Kind != KindUnavailable || ue.Attempts != tt.wantCalls {
				t.Errorf("drops=%d: err %v, want unavailable after %d attempts", tt.drops, err, tt.wantCalls)
			}
		} else if err != nil || len(users) != 3 {
			t.Errorf("drops=%d: %d users, err %v; want 3 users", tt.drops, len(users), err)
		}
		if got := sim.Count(eventsim.RouteGetUsers); got != tt.wantCalls {
			t.Errorf("drops=%d: %d upstream calls, want %d", tt.drops, got, tt.wantCalls)
		}
		if int(retries.Load()) != tt.wantCalls-1 {
			t.Errorf("drops=%d: retry hook ran %d times, want %d", tt.drops, retries.Load(), tt.wantCalls-1)
		}
	}
}

func TestStatusClassification(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    string
		wantKind  Kind
		wantCalls int32
		wantAfter time.Duration
	}{
		{"5xx is retried", 502, "", KindUnavailable, 3, 0},
		{"503 keeps Retry-After", 503, "7", KindUnavailable, 3, 7 * time.Second},
		{"4xx is not retried", 400, "", KindRejected, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"message":"boom"}`))
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, func(c *Config) { c.Retry.MaxRetries = 2 })
			_, err := c.Event(context.Background(), "event-1")
			var ue *Error
			if !errors.As(err, &ue) || ue.Kind != tt.wantKind || ue.Status != tt.status || ue.RetryAfter != tt.wantAfter {
				t.Fatalf("err %#v, want kind %v status %d retryAfter %s", err, tt.wantKind, tt.status, tt.wantAfter)
			}
			if calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestAddEventIsNeverRetried(t *testing.T) {
	sim, url := simServer(t, eventsim.Config{FailureCycle: true})
	c := newClient(t, url, nil)
	for i := 0; i < 5; i++ { // use up the cycle's successes
		if err := c.AddEvent(context.Background(), Event{ID: "e" + string(rune('a'+i)), Name: "n", UserID: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	err := c.AddEvent(context.Background(), Event{ID: "ef", Name: "n", UserID: "1"})
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != KindUnavailable || ue.Status != 503 || !ue.Transient() {
		t.Fatalf("6th addEvent: %v, want a transient 503", err)
	}
	if got := sim.Count(eventsim.RouteAddEvent); got != 6 {
		t.Errorf("%d upstream addEvent calls, want 6 (no retry)", got)
	}
}

func TestTimeoutIsTyped(t *testing.T) {
	_, url := simServer(t, eventsim.Config{EventDelay: 300 * time.Millisecond})
	c := newClient(t, url, func(c *Config) { c.Timeout = 20 * time.Millisecond; c.Retry.MaxRetries = 1 })
	_, err := c.Event(context.Background(), "event-1")
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != KindTimeout || ue.Attempts != 2 {
		t.Fatalf("err %v, want a timeout after 2 attempts", err)
	}
}

func TestCallerCancellationIsNotAnUpstreamError(t *testing.T) {
	_, url, g := gatedSimServer(t, eventsim.Config{})
	c := newClient(t, url, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-g.arrived: // the call is at the upstream, held there: leave mid-call
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := c.Event(ctx, "event-1")
	var ue *Error
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Fatalf("err %v, want context.Canceled and no *Error", err)
	}
}

func TestNotFoundAndIDsNotTrusted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/getEventById/event-7":
			// The original mock's bug: every event said it was id 1.
			_, _ = w.Write([]byte(`{"id":"1","name":"Seven","userId":"2"}`))
		case "/getUserById/3":
			_, _ = w.Write([]byte(`{"id":"2","userName":"bob"}`))
		case "/getEventById/null":
			_, _ = w.Write([]byte(`null`))
		case "/getEventById/gone":
			w.WriteHeader(http.StatusNotFound)
		case "/getEventById/garbage":
			_, _ = w.Write([]byte(`{"id":`))
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	ctx := context.Background()
	if e, err := c.Event(ctx, "event-7"); err != nil || e.ID != "event-7" || e.Name != "Seven" {
		t.Errorf("event-7: %+v, %v; want id event-7", e, err)
	}
	if u, err := c.User(ctx, "3"); err != nil || u.ID != "3" {
		t.Errorf("user 3: %+v, %v; want id 3", u, err)
	}
	for _, id := range []string{"null", "gone", "empty"} {
		if _, err := c.Event(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("event %s: err %v, want ErrNotFound", id, err)
		}
	}
	var ue *Error
	if _, err := c.Event(ctx, "garbage"); !errors.As(err, &ue) || ue.Kind != KindBadResponse {
		t.Errorf("garbage: err %v, want bad response", err)
	}
}

func TestConcurrencyBoundAndInFlightDedup(t *testing.T) {
	sim, url := simServer(t, eventsim.Config{EventDelay: 100 * time.Millisecond, Users: 1, EventsPerUser: 40})
	var shared atomic.Int32
	c := newClient(t, url, func(c *Config) {
		c.MaxConcurrency = 8
		c.Hooks.Shared = func(string) { shared.Add(1) }
	})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	// 40 distinct ids, each asked 5 times at once: 40 calls, never more than 8 at a time.
	for rep := 0; rep < 5; rep++ {
		for j := 1; j <= 40; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := "u1-e" + strconv.Itoa(j)
				e, err := c.Event(context.Background(), id)
				if err == nil && e.ID != id {
					err = errors.New("wrong event " + e.ID)
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := sim.PeakInFlight(eventsim.RouteGetEventByID); got != 8 {
		t.Errorf("peak in flight %d, want exactly the bound 8", got)
	}
	calls := sim.Count(eventsim.RouteGetEventByID)
	if calls < 40 || calls > 200 {
		t.Fatalf("%d calls for 40 ids", calls)
	}
	if int(shared.Load()) < 200-calls {
		t.Errorf("shared hook ran %d times, want at least %d", shared.Load(), 200-calls)
	}
}

func TestIdenticalConcurrentGetsShareOneCall(t *testing.T) {
	sim, url, g := gatedSimServer(t, eventsim.Config{})
	c := newClient(t, url, nil)
	const callers = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	waiting := make(chan struct{}, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx := testwait.WaitingContext(context.Background(), waiting)
			if _, err := c.Event(ctx, "event-1"); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	// The upstream holds the call until every caller waits on it: all 100
	// lookups are in flight at the same moment.
	for i := 0; i < callers; i++ {
		testwait.Recv(t, waiting, "the callers to wait on the call")
	}
	g.open()
	wg.Wait()
	if got := sim.Count(eventsim.RouteGetEventByID); got != 1 {
		t.Errorf("%d upstream calls for 100 identical concurrent lookups, want 1", got)
	}
}

func TestSharedCallSurvivesFirstCallerLeaving(t *testing.T) {
	_, url, g := gatedSimServer(t, eventsim.Config{})
	c := newClient(t, url, nil)
	first, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.Event(first, "event-2"); done <- err }()
	testwait.Recv(t, g.arrived, "the first caller's call to reach the upstream")
	waiting := make(chan struct{}, 1)
	second := make(chan error, 1)
	go func() {
		_, err := c.Event(testwait.WaitingContext(context.Background(), waiting), "event-2")
		second <- err
	}()
	testwait.Recv(t, waiting, "the second caller to wait on the first's call")
	cancel()
	if err := testwait.Recv(t, done, "the first caller to leave"); !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: %v, want canceled", err)
	}
	g.open() // the shared call, still in flight after the first caller left, now ends
	if err := testwait.Recv(t, second, "the second caller's answer"); err != nil {
		t.Errorf("second caller failed when the first left: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"-1", 0}, {"soon", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	r := Retry{Base: 10 * time.Millisecond, Max: 80 * time.Millisecond}
	for n := 0; n < 30; n++ {
		ceiling := min(r.Base<<min(n, 20), r.Max)
		seen := map[time.Duration]bool{}
		for i := 0; i < 50; i++ {
			d := r.backoff(n)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, outside [0, %s]", n, d, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) gave one value 50 times: no jitter", n)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "localhost:4000", Timeout: time.Second, MaxConcurrency: 1},
		{BaseURL: "http://x", Timeout: time.Second},
		{BaseURL: "http://x", MaxConcurrency: 1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}

// BenchmarkUsersDecode is one getUsers call against a local upstream serving
// 100 users: request, body read and decode.
func BenchmarkUsersDecode(b *testing.B) {
	s := eventsim.New(eventsim.Config{Users: 100, EventsPerUser: 5})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Timeout: time.Second, MaxConcurrency: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if users, err := c.Users(context.Background()); err != nil || len(users) != 103 {
			b.Fatal(len(users), err)
		}
	}
}

func TestSequentialReadsAreNotHeld(t *testing.T) {
	sim, url := simServer(t, eventsim.Config{})
	c := newClient(t, url, nil)
	for i := 0; i < 3; i++ {
		if _, err := c.User(context.Background(), "2"); err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.Count(eventsim.RouteGetUserByID); n != 3 {
		t.Errorf("%d calls for 3 sequential reads, want 3: nothing is held by default", n)
	}
}

// An upstream 2xx is a success only with the contract's body: anything else
// is typed, so the service neither reports nor remembers a false success.
func TestAddEventChecksTheAnswer(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantKind Kind // 0: success
	}{
		{"contract success", `{"success":true}`, 0},
		{"success with extra fields", `{"success":true,"id":"x"}`, 0},
		{"broken JSON", `{"success":tru`, KindBadResponse},
		{"HTML page", `<html><body>OK</body></html>`, KindBadResponse},
		{"JSON array", `[{"success":true}]`, KindBadResponse},
		{"empty body", ``, KindBadResponse},
		{"null", `null`, KindBadResponse},
		{"success as a string", `{"success":"true"}`, KindBadResponse},
		{"success as a number", `{"success":1}`, KindBadResponse},
		{"no success field", `{"ok":true}`, KindBadResponse},
		{"explicit failure", `{"success":false,"error":"disk full"}`, KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, nil)
			err := c.AddEvent(context.Background(), Event{ID: "e1", Name: "n", UserID: "1"})
			var ue *Error
			switch {
			case tt.wantKind == 0 && err != nil:
				t.Fatalf("err %v, want success", err)
			case tt.wantKind != 0 && (!errors.As(err, &ue) || ue.Kind != tt.wantKind || ue.Route != RouteAddEvent):
				t.Fatalf("err %#v, want kind %v on addEvent", err, tt.wantKind)
			}
			if calls.Load() != 1 {
				t.Errorf("%d calls, want 1 (addEvent is never retried)", calls.Load())
			}
		})
	}
}

// A smaller retry budget under WithMaxRetries is honoured and is not shared
// with calls that have the full budget.
func TestWithMaxRetriesBoundsAttempts(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil) // 3 retries
	tests := []struct {
		budget    int
		wantCalls int32
	}{{0, 1}, {1, 2}, {10, 4}}
	for _, tt := range tests {
		calls.Store(0)
		_, err := c.User(WithMaxRetries(context.Background(), tt.budget), "1")
		var ue *Error
		if !errors.As(err, &ue) || ue.Kind != KindUnavailable {
			t.Fatalf("budget %d: err %v, want unavailable", tt.budget, err)
		}
		if calls.Load() != tt.wantCalls {
			t.Errorf("budget %d: %d calls, want %d", tt.budget, calls.Load(), tt.wantCalls)
		}
	}
}

// A client-safe summary never carries the underlying error, which names
// the upstream's URL.
func TestSummaryLeavesOutTheUpstreamURL(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", func(c *Config) { c.Retry.MaxRetries = 0 })
	_, err := c.User(context.Background(), "3")
	var ue *Error
	if !errors.As(err, &ue) {
		t.Fatalf("err %v, want *Error", err)
	}
	if !strings.Contains(ue.Error(), "127.0.0.1:1") {
		t.Errorf("Error() %q lost the detail the log needs", ue.Error())
	}
	if s := ue.Summary(); strings.Contains(s, "127.0.0.1") || !strings.Contains(s, "getUserById") {
		t.Errorf("Summary() %q: want the route, not the host", s)
	}
}

// What an attempt's result tells the route's adaptive limit.
func TestLoadOutcome(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want adaptivelimit.Outcome
	}{
		{"answer", live, nil, adaptivelimit.Answered},
		{"not found is an answer", live, ErrNotFound, adaptivelimit.Answered},
		{"503", live, &attemptError{kind: KindUnavailable, status: 503}, adaptivelimit.Overloaded},
		{"429", live, &attemptError{kind: KindRejected, status: 429}, adaptivelimit.Overloaded},
		{"dropped connection", live, &attemptError{kind: KindUnavailable}, adaptivelimit.Overloaded},
		{"no answer in time", live, &attemptError{kind: KindTimeout}, adaptivelimit.Overloaded},
		{"500 is an answer", live, &attemptError{kind: KindUnavailable, status: 500}, adaptivelimit.Answered},
		{"400 is an answer", live, &attemptError{kind: KindRejected, status: 400}, adaptivelimit.Answered},
		{"broken body is an answer", live, &attemptError{kind: KindBadResponse, status: 200}, adaptivelimit.Answered},
		{"the caller left", gone, context.Canceled, adaptivelimit.Ignore},
		{"the caller left mid-call", gone, &attemptError{kind: KindUnavailable}, adaptivelimit.Ignore},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadOutcome(tc.ctx, tc.err); got != tc.want {
				t.Fatalf("loadOutcome = %d, want %d", got, tc.want)
			}
		})
	}
}

// The readiness probe goes around the limits: it neither waits behind a
// full route nor counts as a sample.
func TestPingBypassesTheLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Timeout: time.Second, MaxConcurrency: 1, MinConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	held, err := c.limits[RouteGetUserByID].Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Done(adaptivelimit.Ignore)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping with the route's only slot taken: %v", err)
	}
}

func TestConcurrencyBoundsAreChecked(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "http://x", Timeout: time.Second, MaxConcurrency: 0},
		{BaseURL: "http://x", Timeout: time.Second, MaxConcurrency: 4, MinConcurrency: 5},
	} {
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "min <= max") {
			t.Errorf("New(%d..%d) error %v, want one naming the bounds", cfg.MinConcurrency, cfg.MaxConcurrency, err)
		}
	}
	c, err := New(Config{BaseURL: "http://x", Timeout: time.Second, MaxConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.ConcurrencyLimits()[RouteGetEventByID]; s.Limit != 4 {
		t.Errorf("a ceiling of 4 starts the limit at %d", s.Limit)
	}
}
