package eventapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/eventms/gateway/internal/testwait"
)

// failingHeldUpstream answers every call 502 (a retryable failure); its
// first held calls wait, once arrived, until release, so that callers are
// surely in flight at once. attempts counts every call.
func failingHeldUpstream(t *testing.T, held int) (url string, arrived <-chan struct{}, release func(), attempts *atomic.Int32) {
	t.Helper()
	attempts = &atomic.Int32{}
	arr, rel := make(chan struct{}, held), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(attempts.Add(1)) <= held {
			arr <- struct{}{}
			select {
			case <-rel:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	var released atomic.Bool
	release = func() {
		if released.CompareAndSwap(false, true) {
			close(rel)
		}
	}
	t.Cleanup(release)
	return srv.URL, arr, release, attempts
}

// A read (the client's 3 retries) and a write's user check (1 retry,
// WithMaxRetries) of the same user, in flight at once, each keep their own
// retry budget: neither joins the other's call, whichever came first.
func TestConcurrentCallsKeepTheirOwnRetryBudgets(t *testing.T) {
	check := func(ctx context.Context) context.Context { return WithMaxRetries(ctx, 1) }
	read := func(ctx context.Context) context.Context { return ctx }
	for _, order := range []struct {
		name          string
		first, second func(context.Context) context.Context
		wantFirst     int
		wantSecond    int
	}{
		{"read first", read, check, 4, 2},
		{"check first", check, read, 2, 4},
	} {
		t.Run(order.name, func(t *testing.T) {
			url, arrived, release, attempts := failingHeldUpstream(t, 2)
			c := newClient(t, url, nil) // 3 retries
			first, second := make(chan error, 1), make(chan error, 1)
			go func() { _, err := c.User(order.first(context.Background()), "1"); first <- err }()
			testwait.Recv(t, arrived, "the first caller's call")
			go func() { _, err := c.User(order.second(context.Background()), "1"); second <- err }()
			testwait.Recv(t, arrived, "the second caller's own call (it must not join the first's)")
			release()
			for _, r := range []struct {
				ch   chan error
				want int
				who  string
			}{{first, order.wantFirst, "first"}, {second, order.wantSecond, "second"}} {
				err := testwait.Recv(t, r.ch, "the "+r.who+" caller")
				var ue *Error
				if !errors.As(err, &ue) || ue.Attempts != r.want {
					t.Errorf("%s caller: %v; want unavailable after %d attempts", r.who, err, r.want)
				}
			}
			if n := attempts.Load(); n != 6 {
				t.Errorf("%d upstream attempts; want 6 (4 for the read, 2 for the check)", n)
			}
		})
	}
}
