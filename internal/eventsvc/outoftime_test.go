package eventsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// How a layer below the service reports that it ran out of time.
type timeReport int

const (
	// rawDeadline: the context's own error, as the entity cache returns
	// it to a caller whose deadline passed while it waited for a fill.
	rawDeadline timeReport = iota
	// wrappedDeadline: the context's error wrapped with context.
	wrappedDeadline
	// typedDeadline: eventapi's typed timeout for the request's deadline.
	typedDeadline
	// attemptTimeout: eventapi's per-attempt timeout, which ends the call
	// before the request's deadline.
	attemptTimeout
)

// hangingAPI is an Upstream whose user check or write (or both) never
// answers: it blocks until its context ends (or, with attemptTimeout, until
// its own per-attempt timeout), then reports it as report says.
type hangingAPI struct {
	fakeAPI
	hangCheck, hangWrite bool
	report               timeReport
	attempt              time.Duration
	writes               atomic.Int32
}

func (h *hangingAPI) hang(ctx context.Context) error {
	if h.report == attemptTimeout {
		actx, cancel := context.WithTimeout(ctx, h.attempt)
		defer cancel()
		<-actx.Done()
		if ctx.Err() != nil {
			return &eventapi.Error{Kind: eventapi.KindTimeout, Attempts: 1, Err: ctx.Err()}
		}
		return &eventapi.Error{Kind: eventapi.KindTimeout, Attempts: 1, Err: fmt.Errorf("no answer within %s", h.attempt)}
	}
	<-ctx.Done()
	switch h.report {
	case wrappedDeadline:
		return fmt.Errorf("get user %q: %w", "1", ctx.Err())
	case typedDeadline:
		return &eventapi.Error{Kind: eventapi.KindTimeout, Err: ctx.Err()}
	}
	return ctx.Err()
}

func (h *hangingAPI) User(ctx context.Context, id string) (*eventapi.User, error) {
	if h.hangCheck {
		return nil, h.hang(ctx)
	}
	return h.fakeAPI.User(ctx, id)
}

func (h *hangingAPI) AddEvent(ctx context.Context, e eventapi.Event) error {
	h.writes.Add(1)
	if h.hangWrite {
		return h.hang(ctx)
	}
	return h.fakeAPI.AddEvent(ctx, e)
}

// Every way addEvent can fail for lack of time — the user check or the
// write running into the request's deadline or into their own per-attempt
// timeout, however the layer below reports it, with or without an
// idempotency key — is the typed unavailability: ClassWriteUnavailable,
// 503, a retryAfter. Only the caller leaving is something else.
func TestAddEventOutOfTimeIsWriteUnavailable(t *testing.T) {
	tests := []struct {
		name                 string
		hangCheck, hangWrite bool
		report               timeReport
		expired              bool // the deadline passed before addEvent was called
	}{
		{"user check: request deadline, raw context error", true, false, rawDeadline, false},
		{"user check: request deadline, wrapped context error", true, false, wrappedDeadline, false},
		{"user check: request deadline, typed", true, false, typedDeadline, false},
		{"user check: per-attempt timeout", true, false, attemptTimeout, false},
		{"write: request deadline, raw context error", false, true, rawDeadline, false},
		{"write: request deadline, wrapped context error", false, true, wrappedDeadline, false},
		{"write: request deadline, typed", false, true, typedDeadline, false},
		{"write: per-attempt timeout", false, true, attemptTimeout, false},
		{"deadline passed before the call", true, true, rawDeadline, true},
	}
	for _, tt := range tests {
		for _, keyed := range []bool{false, true} {
			name := tt.name
			if keyed {
				name += ", with an idempotency key"
			}
			t.Run(name, func(t *testing.T) {
				api := &hangingAPI{hangCheck: tt.hangCheck, hangWrite: tt.hangWrite, report: tt.report, attempt: 20 * time.Millisecond}
				api.users = map[string]*eventapi.User{"1": {ID: "1", UserName: "ann"}}
				svc, _, _ := newTestService(t, &api.fakeAPI)
				svc.api = api
				timeout := 200 * time.Millisecond
				if tt.report == attemptTimeout {
					timeout = time.Minute // the attempt's own timeout ends it
				}
				if tt.expired {
					timeout = -time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				var key *string
				if keyed {
					k := "out-of-time"
					key = &k
				}
				_, _, err := svc.AddEvent(ctx, NewEvent{Name: "n", UserID: "1"}, key)
				var ue *UnavailableError
				if !errors.As(err, &ue) {
					t.Fatalf("err %v (%T); want *UnavailableError", err, err)
				}
				f := svc.Failure(err)
				if f.Class != ClassWriteUnavailable || f.Status != http.StatusServiceUnavailable || f.Code != CodeServiceUnavailable ||
					f.RetryAfter < 1 || f.Circuit == "" {
					t.Errorf("Failure %+v; want ClassWriteUnavailable, 503, a retryAfter and the circuit", f)
				}
				if tt.hangCheck && api.writes.Load() != 0 {
					t.Errorf("%d writes after a check that did not answer; want 0", api.writes.Load())
				}
			})
		}
	}
}

// The caller leaving is not unavailability: it is nobody's failure.
func TestAddEventCallerLeftIsCanceled(t *testing.T) {
	api := &hangingAPI{hangCheck: true}
	api.users = map[string]*eventapi.User{"1": {ID: "1"}}
	svc, br, _ := newTestService(t, &api.fakeAPI)
	svc.api = api
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := svc.AddEvent(ctx, NewEvent{Name: "n", UserID: "1"}, nil)
	if f := svc.Failure(err); f.Class != ClassCanceled {
		t.Errorf("Failure %+v; want ClassCanceled", f)
	}
	if state, _ := br.Status(); state.String() != "CLOSED" {
		t.Errorf("breaker %s; a caller leaving says nothing about the upstream", state)
	}
}
