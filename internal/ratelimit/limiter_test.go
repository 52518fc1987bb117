package ratelimit

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
)

// clock is a manual clock for Memory.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// backend is one Limiter under the shared suite, with a way to let time
// pass for it and how exact its durations are.
type backend struct {
	name    string
	lim     Limiter
	advance func(d time.Duration)
	// slack is how much shorter than computed a duration may be: Redis
	// runs on real time, which passes (a little) between the test's calls.
	slack time.Duration
}

func backends(t *testing.T, r Rate) []backend {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	m, err := NewMemory(r, 1000, c.now)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	rl, err := NewRedis(rdb, prefix, "test", r)
	if err != nil {
		t.Fatal(err)
	}
	return []backend{
		{"memory", m, c.advance, 0},
		{"redis", rl, func(d time.Duration) { shiftRedisTime(t, rdb, prefix, d) }, time.Second},
	}
}

// shiftRedisTime lets d pass for the GCRA keys under prefix without
// waiting: a key holds only its theoretical arrival time (TAT, seconds),
// and moving every TAT back by d is exactly what moving "now" forward by
// d does to the algorithm.
func shiftRedisTime(t *testing.T, rdb redis.UniversalClient, prefix string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		tat, err := rdb.Get(ctx, k).Float64()
		if err != nil {
			t.Fatalf("TAT of %s: %v", k, err)
		}
		v := strconv.FormatFloat(tat-d.Seconds(), 'f', -1, 64)
		if err := rdb.Set(ctx, k, v, redis.KeepTTL).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// near reports whether got is want, less at most slack.
func near(got, want, slack time.Duration) bool {
	return got <= want+time.Millisecond && got >= want-slack
}

func allow(t *testing.T, l Limiter, key string, cost int) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, cost)
	if err != nil {
		t.Fatalf("Allow(%s, %d): %v", key, cost, err)
	}
	return d
}

// Every Limiter must pass this suite. The rate, 4 per hour, refills one
// unit every 15 minutes: long enough that the real time a Redis run takes
// changes no decision.
func TestLimiterContract(t *testing.T) {
	r := Rate{N: 4, Per: time.Hour}
	const interval = 15 * time.Minute
	for _, b := range backends(t, r) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("N allowed, then refused until one unit is back", func(t *testing.T) {
				for i := 1; i <= 4; i++ {
					d := allow(t, b.lim, "spent", 1)
					if !d.Allowed || d.Remaining != 4-i || d.RetryAfter != 0 || !near(d.ResetAfter, time.Duration(i)*interval, b.slack) {
						t.Fatalf("request %d: %+v; want allowed, %d remaining, whole in %s", i, d, 4-i, time.Duration(i)*interval)
					}
				}
				d := allow(t, b.lim, "spent", 1)
				if d.Allowed || d.Remaining != 0 || !near(d.RetryAfter, interval, b.slack) || !near(d.ResetAfter, time.Hour, b.slack) {
					t.Errorf("fifth request: %+v; want refused, retry after %s, whole in 1h", d, interval)
				}
			})
			t.Run("refill", func(t *testing.T) {
				for range 4 {
					allow(t, b.lim, "refill", 1)
				}
				b.advance(interval)
				if d := allow(t, b.lim, "refill", 1); !d.Allowed || d.Remaining != 0 {
					t.Errorf("one interval later: %+v; want one allowed", d)
				}
				if d := allow(t, b.lim, "refill", 1); d.Allowed {
					t.Errorf("then: %+v; want refused, only one unit came back", d)
				}
				b.advance(time.Hour)
				for i := range 4 {
					if d := allow(t, b.lim, "refill", 1); !d.Allowed {
						t.Fatalf("a period later, request %d: %+v; want the whole budget back", i+1, d)
					}
				}
			})
			t.Run("cost", func(t *testing.T) {
				if d := allow(t, b.lim, "cost", 3); !d.Allowed || d.Remaining != 1 {
					t.Errorf("cost 3 of 4: %+v; want allowed, 1 remaining", d)
				}
				d := allow(t, b.lim, "cost", 2)
				if d.Allowed || !near(d.RetryAfter, interval, b.slack) {
					t.Errorf("cost 2 with 1 left: %+v; want refused, retry after one unit's %s", d, interval)
				}
				if d := allow(t, b.lim, "cost", 1); !d.Allowed || d.Remaining != 0 {
					t.Errorf("cost 1 with 1 left: %+v; want allowed (the refusal spent nothing)", d)
				}
			})
			t.Run("cost above the whole budget", func(t *testing.T) {
				d := allow(t, b.lim, "huge", 5)
				if d.Allowed || d.RetryAfter != time.Hour {
					t.Errorf("cost 5 of 4: %+v; want refused with a retry after the full period", d)
				}
				if d := allow(t, b.lim, "huge", 4); !d.Allowed {
					t.Errorf("then cost 4: %+v; want allowed (nothing was spent)", d)
				}
			})
			t.Run("keys are independent", func(t *testing.T) {
				for range 5 {
					allow(t, b.lim, "greedy", 1)
				}
				if d := allow(t, b.lim, "modest", 1); !d.Allowed || d.Remaining != 3 {
					t.Errorf("another key: %+v; want a budget of its own", d)
				}
			})
			t.Run("cost below 1 is an error", func(t *testing.T) {
				if _, err := b.lim.Allow(context.Background(), "zero", 0); !errors.Is(err, ErrCost) {
					t.Errorf("cost 0: %v; want ErrCost", err)
				}
			})
			t.Run("concurrent callers share one budget", func(t *testing.T) {
				var allowed atomic.Int32
				var wg sync.WaitGroup
				for range 40 {
					wg.Go(func() {
						if d, err := b.lim.Allow(context.Background(), "crowd", 1); err == nil && d.Allowed {
							allowed.Add(1)
						}
					})
				}
				wg.Wait()
				if allowed.Load() != 4 {
					t.Errorf("%d of 40 concurrent requests allowed; want 4", allowed.Load())
				}
			})
		})
	}
}
