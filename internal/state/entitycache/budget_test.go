package entitycache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
	"github.com/eventms/gateway/internal/upstreamtest"
)

// A read (the client's 3 retries) and a write's user check (1 retry,
// eventapi.WithMaxRetries), in flight at once for the same user through
// the cache, each keep their own retry budget: the cache does not join
// their fills, whichever came first and whether the read is batched.
func TestCacheKeepsRetryBudgetsApart(t *testing.T) {
	check := func(c *Cache) error {
		_, err := c.User(eventapi.WithMaxRetries(context.Background(), 1), "1")
		return err
	}
	read := func(c *Cache) error { _, err := c.User(context.Background(), "1"); return err }
	batched := func(c *Cache) error {
		_, errs := c.UsersByID(context.Background(), []string{"1"})
		return errs[0]
	}
	tests := []struct {
		name                  string
		first, second         func(*Cache) error
		wantFirst, wantSecond int
	}{
		{"read first", read, check, 4, 2},
		{"check first", check, read, 2, 4},
		{"batched read first", batched, check, 4, 2},
		{"check first, then a batched read", check, batched, 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := upstreamtest.NewHeldFailure(t, 2) // each caller's first attempt waits for the other's
			api, err := eventapi.New(eventapi.Config{BaseURL: up.Serve(t), Timeout: time.Minute, MaxConcurrency: 64,
				Retry: eventapi.Retry{MaxRetries: 3}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(api.Close)
			store, _ := NewMemory(100, nil)
			c := New(api, store, Config{})
			t.Cleanup(c.Close)

			first, second := make(chan error, 1), make(chan error, 1)
			go func() { first <- tt.first(c) }()
			testwait.Recv(t, up.Arrived(), "the first caller's call")
			go func() { second <- tt.second(c) }()
			testwait.Recv(t, up.Arrived(), "the second caller's own call (it must not join the first's fill)")
			up.Release()
			for _, r := range []struct {
				ch   chan error
				want int
				who  string
			}{{first, tt.wantFirst, "first"}, {second, tt.wantSecond, "second"}} {
				err := testwait.Recv(t, r.ch, "the "+r.who+" caller")
				var ue *eventapi.Error
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
