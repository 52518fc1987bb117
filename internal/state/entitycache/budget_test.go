package entitycache

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstream/eventapi"
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
			var attempts atomic.Int32
			arrived, release := make(chan struct{}, 2), make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if attempts.Add(1) <= 2 { // each caller's first attempt waits for the other's
					arrived <- struct{}{}
					select {
					case <-release:
					case <-r.Context().Done():
						return
					}
				}
				w.WriteHeader(http.StatusBadGateway)
			}))
			t.Cleanup(srv.Close)
			var once atomic.Bool
			open := func() {
				if once.CompareAndSwap(false, true) {
					close(release)
				}
			}
			t.Cleanup(open)
			api, err := eventapi.New(eventapi.Config{BaseURL: srv.URL, Timeout: time.Minute, MaxConcurrency: 64,
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
			testwait.Recv(t, arrived, "the first caller's call")
			go func() { second <- tt.second(c) }()
			testwait.Recv(t, arrived, "the second caller's own call (it must not join the first's fill)")
			open()
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
			if n := attempts.Load(); n != 6 {
				t.Errorf("%d upstream attempts; want 6 (4 for the read, 2 for the check)", n)
			}
		})
	}
}
