package eventapi

import (
	"context"
	"errors"
	"testing"

	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstreamtest"
)

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
			up := upstreamtest.NewHeldFailure(t, 2)
			c := newClient(t, up.Serve(t), nil) // 3 retries
			first, second := make(chan error, 1), make(chan error, 1)
			go func() { _, err := c.User(order.first(context.Background()), "1"); first <- err }()
			testwait.Recv(t, up.Arrived(), "the first caller's call")
			go func() { _, err := c.User(order.second(context.Background()), "1"); second <- err }()
			testwait.Recv(t, up.Arrived(), "the second caller's own call (it must not join the first's)")
			up.Release()
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
			if n := up.Attempts(); n != 6 {
				t.Errorf("%d upstream attempts; want 6 (4 for the read, 2 for the check)", n)
			}
		})
	}
}
