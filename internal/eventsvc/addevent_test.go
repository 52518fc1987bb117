package eventsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/idempotency"
)

// fakeAPI is an Upstream whose addEvent answers are scripted.
type fakeAPI struct {
	mu     sync.Mutex
	users  map[string]*eventapi.User
	addErr error // returned by every AddEvent
	added  []eventapi.Event
}

func (f *fakeAPI) User(_ context.Context, id string) (*eventapi.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.users[id]; ok {
		c := *u
		return &c, nil
	}
	return nil, eventapi.ErrNotFound
}

func (f *fakeAPI) Event(context.Context, string) (*eventapi.Event, error) {
	return nil, eventapi.ErrNotFound
}

func (f *fakeAPI) Users(context.Context) ([]eventapi.User, error)   { return nil, nil }
func (f *fakeAPI) Events(context.Context) ([]eventapi.Event, error) { return nil, nil }

func (f *fakeAPI) AddEvent(_ context.Context, e eventapi.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, e)
	return f.addErr
}

func (f *fakeAPI) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.added) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestService(t *testing.T, api *fakeAPI) (*Service, *breaker.Breaker, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if api.users == nil {
		api.users = map[string]*eventapi.User{"1": {ID: "1", UserName: "ann"}}
	}
	br := breaker.New(breaker.Config{FailureThreshold: 3, FailureWindow: 30 * time.Second,
		ResetTimeout: 10 * time.Second, MaxResetTimeout: 60 * time.Second, Now: clk.now})
	store, err := idempotency.NewMemory[AddedEvent](16, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	svc := New(api, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{
		Breaker:     br,
		Idempotency: idempotency.NewGuard(store, time.Hour),
		NewID:       func() string { n++; return fmt.Sprintf("event-t%d", n) },
	})
	return svc, br, clk
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name      string
		in        NewEvent
		wantField string // "" means valid
	}{
		{"valid", NewEvent{Name: "Gig", UserID: "1"}, ""},
		{"name trimmed to empty", NewEvent{Name: " \t\n", UserID: "1"}, "name"},
		{"name of 200 characters", NewEvent{Name: strings.Repeat("a", 200), UserID: "1"}, ""},
		{"name of 200 multi-byte characters", NewEvent{Name: strings.Repeat("é", 200), UserID: "1"}, ""},
		{"name of 201 characters", NewEvent{Name: strings.Repeat("a", 201), UserID: "1"}, "name"},
		{"name padded past 200 is trimmed first", NewEvent{Name: "  " + strings.Repeat("a", 200) + "  ", UserID: "1"}, ""},
		{"details of 2000 characters", NewEvent{Name: "n", UserID: "1", Details: strings.Repeat("d", 2000)}, ""},
		{"details of 2001 characters", NewEvent{Name: "n", UserID: "1", Details: strings.Repeat("d", 2001)}, "details"},
		{"empty user id", NewEvent{Name: "n", UserID: " "}, "userId"},
		{"oversize user id", NewEvent{Name: "n", UserID: strings.Repeat("9", 101)}, "userId"},
		{"unknown user", NewEvent{Name: "n", UserID: "404"}, "userId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{}
			svc, _, _ := newTestService(t, api)
			ev, _, err := svc.AddEvent(context.Background(), tt.in, nil)
			var inv *InvalidInputError
			if tt.wantField == "" {
				if err != nil || ev == nil {
					t.Fatalf("AddEvent = %v, %v; want success", ev, err)
				}
				if ev.Name != strings.TrimSpace(tt.in.Name) || api.calls() != 1 {
					t.Errorf("stored %+v in %d calls; want the trimmed name in 1", ev, api.calls())
				}
				return
			}
			if !errors.As(err, &inv) || inv.Field != tt.wantField {
				t.Fatalf("AddEvent error = %v; want InvalidInputError on %q", err, tt.wantField)
			}
			if api.calls() != 0 {
				t.Errorf("%d upstream addEvent calls for invalid input; want 0", api.calls())
			}
		})
	}
}

func TestUpstreamFailuresAndTheBreaker(t *testing.T) {
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
		wantState       breaker.State // after three such failures
	}{
		{"503", &eventapi.Error{Kind: eventapi.KindUnavailable, Status: 503}, true, breaker.Open},
		{"dropped connection", &eventapi.Error{Kind: eventapi.KindUnavailable}, true, breaker.Open},
		{"timeout", &eventapi.Error{Kind: eventapi.KindTimeout}, true, breaker.Open},
		{"4xx is the request's fault", &eventapi.Error{Kind: eventapi.KindRejected, Status: 400}, false, breaker.Closed},
		{"caller cancelled", fmt.Errorf("event API addEvent: %w", context.Canceled), false, breaker.Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{addErr: tt.err}
			svc, br, _ := newTestService(t, api)
			for i := 0; i < 3; i++ {
				_, _, err := svc.AddEvent(context.Background(), NewEvent{Name: "n", UserID: "1"}, nil)
				var ue *UnavailableError
				if errors.As(err, &ue) != tt.wantUnavailable {
					t.Fatalf("call %d: error %v; want UnavailableError: %v", i+1, err, tt.wantUnavailable)
				}
				if !errors.Is(err, tt.err) {
					t.Errorf("call %d: error %v does not wrap the upstream's %v", i+1, err, tt.err)
				}
			}
			if state, _ := br.Status(); state != tt.wantState {
				t.Errorf("breaker %s after three failures; want %s", state, tt.wantState)
			}
			// Once open, the next call is refused without reaching the upstream.
			if tt.wantState == breaker.Open {
				_, _, err := svc.AddEvent(context.Background(), NewEvent{Name: "n", UserID: "1"}, nil)
				var ue *UnavailableError
				if !errors.As(err, &ue) || ue.State != breaker.Open || api.calls() != 3 {
					t.Errorf("call while open: %v after %d upstream calls; want OPEN and 3 calls", err, api.calls())
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name          string
		upstreamAfter time.Duration
		failures      int
		wantState     breaker.State
		want          time.Duration
	}{
		{"closed, upstream says 7 s", 7 * time.Second, 1, breaker.Closed, 7 * time.Second},
		{"closed, upstream says nothing", 0, 1, breaker.Closed, time.Second},
		{"closed, upstream says under a second", 300 * time.Millisecond, 1, breaker.Closed, time.Second},
		{"the failure that opens the circuit waits for the probe", 7 * time.Second, 3, breaker.Open, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{addErr: &eventapi.Error{Kind: eventapi.KindUnavailable, Status: 503, RetryAfter: tt.upstreamAfter}}
			svc, _, _ := newTestService(t, api)
			var ue *UnavailableError
			for i := 0; i < tt.failures; i++ {
				_, _, err := svc.AddEvent(context.Background(), NewEvent{Name: "n", UserID: "1"}, nil)
				if !errors.As(err, &ue) {
					t.Fatalf("error %v; want UnavailableError", err)
				}
			}
			if ue.State != tt.wantState || ue.RetryAfter != tt.want {
				t.Errorf("got %s retry after %s; want %s after %s", ue.State, ue.RetryAfter, tt.wantState, tt.want)
			}
		})
	}
}

func TestIdempotencyKeys(t *testing.T) {
	api := &fakeAPI{}
	svc, _, _ := newTestService(t, api)
	ctx := context.Background()
	key := "k-1"
	in := NewEvent{Name: "Gig", UserID: "1"}

	first, replayed, err := svc.AddEvent(ctx, in, &key)
	if err != nil || replayed {
		t.Fatalf("first call: %v, replayed %v", err, replayed)
	}
	again, replayed, err := svc.AddEvent(ctx, NewEvent{Name: "  Gig ", UserID: "1"}, &key)
	if err != nil || !replayed || again.ID != first.ID || api.calls() != 1 {
		t.Fatalf("same key and input: %+v replayed=%v err=%v after %d calls; want the first event, 1 call", again, replayed, err, api.calls())
	}

	var inv *InvalidInputError
	if _, _, err := svc.AddEvent(ctx, NewEvent{Name: "Other", UserID: "1"}, &key); !errors.As(err, &inv) || inv.Field != "idempotencyKey" {
		t.Errorf("same key, other input: %v; want InvalidInputError on idempotencyKey", err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("k", MaxKeyLen+1)} {
		if _, _, err := svc.AddEvent(ctx, in, &bad); !errors.As(err, &inv) || inv.Field != "idempotencyKey" {
			t.Errorf("key %.10q…: %v; want InvalidInputError on idempotencyKey", bad, err)
		}
	}
	if api.calls() != 1 {
		t.Errorf("%d upstream calls; want 1", api.calls())
	}
}

func TestFailuresAreNotRemembered(t *testing.T) {
	api := &fakeAPI{addErr: &eventapi.Error{Kind: eventapi.KindUnavailable, Status: 503}}
	svc, _, _ := newTestService(t, api)
	key := "retry-me"
	in := NewEvent{Name: "Gig", UserID: "1"}
	if _, _, err := svc.AddEvent(context.Background(), in, &key); err == nil {
		t.Fatal("want the upstream failure")
	}
	api.mu.Lock()
	api.addErr = nil
	api.mu.Unlock()
	ev, replayed, err := svc.AddEvent(context.Background(), in, &key)
	if err != nil || replayed || ev == nil || api.calls() != 2 {
		t.Errorf("retry after a failure: %v replayed=%v err=%v after %d calls; want a fresh success, 2 calls", ev, replayed, err, api.calls())
	}
}

func TestEventIDsAreUnique(t *testing.T) {
	const goroutines, each = 8, 2000
	ids := make(chan string, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ids <- newEventID()
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := make(map[string]bool, goroutines*each)
	for id := range ids {
		if !strings.HasPrefix(id, "event-") || seen[id] {
			t.Fatalf("id %q is malformed or repeated", id)
		}
		seen[id] = true
	}
}
