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

	"github.com/eventms/gateway/internal/state/idempotency"
	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// fakeAPI is an Upstream whose addEvent answers are scripted.
type fakeAPI struct {
	mu      sync.Mutex
	users   map[string]*eventapi.User
	addErr  error // returned by every AddEvent
	userErr error // returned by every User
	added   []eventapi.Event
}

func (f *fakeAPI) User(_ context.Context, id string) (*eventapi.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.userErr != nil {
		return nil, f.userErr
	}
	if u, ok := f.users[id]; ok {
		c := *u
		return &c, nil
	}
	return nil, eventapi.ErrNotFound
}

func (f *fakeAPI) UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error) {
	us, errs := make([]*eventapi.User, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		us[i], errs[i] = f.User(ctx, id)
	}
	return us, errs
}

func (f *fakeAPI) EventsByID(_ context.Context, ids []string) ([]*eventapi.Event, []error) {
	errs := make([]error, len(ids))
	for i := range errs {
		errs[i] = eventapi.ErrNotFound
	}
	return make([]*eventapi.Event, len(ids)), errs
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
	svc := New(api, br, idempotency.NewGuard(store, time.Hour, idempotency.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{
		NewID: func() string { n++; return fmt.Sprintf("event-t%d", n) },
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
		{"name not UTF-8", NewEvent{Name: "caf\xe9", UserID: "1"}, "name"},
		{"details not UTF-8", NewEvent{Name: "n", UserID: "1", Details: "\xff"}, "details"},
		{"user id not UTF-8", NewEvent{Name: "n", UserID: "\xc3"}, "userId"},
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
		{"off-contract 2xx is upstream trouble", &eventapi.Error{Kind: eventapi.KindBadResponse, Status: 200}, false, breaker.Open},
		{"2xx saying success:false", &eventapi.Error{Kind: eventapi.KindUnavailable, Status: 200}, true, breaker.Open},
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

// The user check is part of the write: when it cannot be made, addEvent is
// unavailable (not a generic error), the breaker counts it, and nothing is
// written or remembered.
func TestUserCheckFailureIsUnavailability(t *testing.T) {
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
		wantMessage     string
	}{
		{"connection refused", &eventapi.Error{Route: "getUserById", Kind: eventapi.KindUnavailable, Attempts: 2,
			Err: errors.New(`Get "http://10.0.0.7:4000/getUserById/1": dial tcp: connection refused`)}, true, "unreachable"},
		{"hanging", &eventapi.Error{Route: "getUserById", Kind: eventapi.KindTimeout}, true, "did not answer in time"},
		{"503", &eventapi.Error{Route: "getUserById", Kind: eventapi.KindUnavailable, Status: 503}, true, "high load"},
		{"off-contract", &eventapi.Error{Route: "getUserById", Kind: eventapi.KindBadResponse, Status: 200}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{userErr: tt.err}
			svc, br, _ := newTestService(t, api)
			key := "k"
			for i := 0; i < 3; i++ {
				_, _, err := svc.AddEvent(context.Background(), NewEvent{Name: "n", UserID: "1"}, &key)
				var ue *UnavailableError
				if errors.As(err, &ue) != tt.wantUnavailable {
					t.Fatalf("call %d: %v; want UnavailableError %v", i+1, err, tt.wantUnavailable)
				}
				if ue != nil && i == 0 && !strings.Contains(ue.Message, tt.wantMessage) {
					t.Errorf("message %q; want it to say %q", ue.Message, tt.wantMessage)
				}
			}
			if state, _ := br.Status(); state != breaker.Open {
				t.Errorf("breaker %s after three failed checks; want OPEN", state)
			}
			if api.calls() != 0 {
				t.Errorf("%d writes after failed checks; want 0", api.calls())
			}
			api.mu.Lock()
			api.userErr = nil
			api.mu.Unlock()
			// Once open, a write is refused with the original service's text.
			_, _, err := svc.AddEvent(context.Background(), NewEvent{Name: "n", UserID: "1"}, &key)
			var ue *UnavailableError
			if !errors.As(err, &ue) || ue.Message != MessageCircuitOpen {
				t.Errorf("while open: %v; want %q", err, MessageCircuitOpen)
			}
		})
	}
}

// One classification for both front doors: class, code, status, and a
// message that never carries the upstream's host unless asked to.
func TestFailureClassification(t *testing.T) {
	leak := errors.New(`Get "http://10.1.2.3:4000/getUserById/3": dial tcp 10.1.2.3:4000: connect: connection refused`)
	upstream := func(k eventapi.Kind, status int) error {
		return failed(&eventapi.Error{Route: "getUserById", Kind: k, Status: status, Attempts: 4, Err: leak}, "get user %q", "3")
	}
	tests := []struct {
		name       string
		err        error
		wantClass  Class
		wantCode   string
		wantStatus int
		wantMsg    string
	}{
		{"invalid input", &InvalidInputError{Field: "name", Reason: "must not be empty"}, ClassInvalidInput, "BAD_USER_INPUT", 400, "name: must not be empty"},
		{"unknown user", fmt.Errorf("events of user %q: %w", "9", ErrUserNotFound), ClassNotFound, "NOT_FOUND", 404, `events of user "9": user not found`},
		{"unavailable", upstream(eventapi.KindUnavailable, 0), ClassUnavailable, "UPSTREAM_UNAVAILABLE", 502, `get user "3": event API getUserById: unavailable after 4 attempts`},
		{"timeout", upstream(eventapi.KindTimeout, 0), ClassTimeout, "UPSTREAM_TIMEOUT", 504, `get user "3": event API getUserById: timeout after 4 attempts`},
		{"bad response", upstream(eventapi.KindBadResponse, 200), ClassBadResponse, "UPSTREAM_BAD_RESPONSE", 502, `get user "3": event API getUserById: bad response (HTTP 200) after 4 attempts`},
		{"rejected", upstream(eventapi.KindRejected, 400), ClassRejected, "UPSTREAM_REJECTED", 502, `get user "3": event API getUserById: rejected (HTTP 400) after 4 attempts`},
		{"write unavailable", &UnavailableError{Message: MessageCircuitOpen, State: breaker.Open, RetryAfter: 1500 * time.Millisecond},
			ClassWriteUnavailable, "SERVICE_UNAVAILABLE", 503, MessageCircuitOpen},
		{"request deadline", failed(context.DeadlineExceeded, "list users"), ClassTimeout, "UPSTREAM_TIMEOUT", 504, "list users: Event API timed out"},
		{"caller left", context.Canceled, ClassCanceled, "REQUEST_CANCELED", 499, "request canceled"},
		{"a bug", errors.New("nil map at 0x1234"), ClassInternal, "INTERNAL_SERVER_ERROR", 500, "internal server error"},
	}
	svc, _, _ := newTestService(t, &fakeAPI{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := svc.Failure(tt.err)
			if f.Class != tt.wantClass || f.Code != tt.wantCode || f.Status != tt.wantStatus || f.Message != tt.wantMsg {
				t.Errorf("Failure = %+v; want class %s code %s status %d message %q", f, tt.wantClass, tt.wantCode, tt.wantStatus, tt.wantMsg)
			}
			if strings.Contains(f.Message, "10.1.2.3") {
				t.Errorf("message %q names the upstream host", f.Message)
			}
		})
	}
	if f := svc.Failure(tests[1].err); f.RetryAfter != 0 {
		t.Errorf("not-found carries a retryAfter %d", f.RetryAfter)
	}
	if f := svc.Failure(tests[6].err); f.RetryAfter != 2 || f.Circuit != "OPEN" {
		t.Errorf("write unavailable: retryAfter %d circuit %s; want 2, OPEN", f.RetryAfter, f.Circuit)
	}
	detailed := New(&fakeAPI{}, nil, nil, nil, Options{DetailedErrors: true})
	if f := detailed.Failure(tests[2].err); !strings.Contains(f.Message, "connection refused") {
		t.Errorf("detailed errors: %q; want the upstream's own text", f.Message)
	}
}
