package adaptivelimit

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// upstream models a server like the simulator's capacity model: up to
// capacity calls in flight answer in delay, more slow down in proportion,
// and beyond overload × capacity calls are refused.
type upstream struct {
	delay    time.Duration
	capacity int // 0: unlimited
	overload int // refuse beyond this many in flight; 0: never
}

func (u upstream) latency(n int) time.Duration {
	if u.capacity == 0 || n <= u.capacity {
		return u.delay
	}
	return time.Duration(float64(u.delay) * float64(n) / float64(u.capacity))
}

// rounds drives l with demand calls per round and returns the limit after
// each round. A round starts the calls the limit allows one after another
// (the i-th finds i in flight, as in the simulator, whose latency is set
// on arrival) and finishes each after the upstream's latency for it, in
// the order they end; the next round starts when the last has ended.
func rounds(t *testing.T, l *Limiter, c *clock, u upstream, demand, n int) []int {
	t.Helper()
	var limits []int
	for range n {
		k := min(demand, l.Limit())
		type call struct {
			p       Permit
			after   time.Duration
			refused bool
		}
		calls := make([]call, k)
		for i := range calls {
			p, err := l.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			calls[i] = call{p: p, after: u.latency(i + 1)}
			if u.overload > 0 && i+1 > u.overload {
				calls[i].after, calls[i].refused = time.Millisecond, true // refusals are quick
			}
		}
		slices.SortStableFunc(calls, func(a, b call) int { return cmp.Compare(a.after, b.after) })
		start := c.t
		for _, x := range calls {
			c.t = start.Add(x.after)
			if x.refused {
				x.p.Done(Overloaded)
			} else {
				x.p.Done(Answered)
			}
		}
		limits = append(limits, l.Limit())
	}
	return limits
}

func newLimiter(c *clock, cfg Config) *Limiter {
	cfg.Now = c.now
	return New(cfg)
}

func TestLimitFollowsTheUpstream(t *testing.T) {
	cases := []struct {
		name           string
		cfg            Config
		up             upstream
		demand, rounds int
		lo, hi         int // the limit after the last round
		maxLatency     float64
	}{
		{name: "healthy upstream keeps the ceiling", cfg: Config{Min: 8, Max: 1024},
			up: upstream{delay: 500 * time.Millisecond}, demand: 1000, rounds: 50, lo: 1024, hi: 1024},
		{name: "capacity 100 at 50ms settles near 100", cfg: Config{Min: 8, Max: 1024},
			up: upstream{delay: 50 * time.Millisecond, capacity: 100, overload: 200}, demand: 640, rounds: 200, lo: 100, hi: 125},
		{name: "capacity 100 at 500ms settles near 100", cfg: Config{Min: 8, Max: 1024},
			up: upstream{delay: 500 * time.Millisecond, capacity: 100, overload: 200}, demand: 2000, rounds: 200, lo: 100, hi: 125},
		{name: "capacity 30 with no refusals", cfg: Config{Min: 8, Max: 1024},
			up: upstream{delay: 20 * time.Millisecond, capacity: 30}, demand: 400, rounds: 200, lo: 30, hi: 45},
		{name: "the floor holds", cfg: Config{Min: 50, Max: 1024},
			up: upstream{delay: 20 * time.Millisecond, capacity: 10}, demand: 400, rounds: 100, lo: 50, hi: 50},
		{name: "a fixed limit never moves", cfg: Config{Min: 128, Max: 128},
			up: upstream{delay: 20 * time.Millisecond, capacity: 10, overload: 20}, demand: 400, rounds: 50, lo: 128, hi: 128},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(0, 0)}
			l := newLimiter(c, tc.cfg)
			limits := rounds(t, l, c, tc.up, tc.demand, tc.rounds)
			got := limits[len(limits)-1]
			if got < tc.lo || got > tc.hi {
				t.Fatalf("limit %d after %d rounds, want %d..%d; history %v", got, tc.rounds, tc.lo, tc.hi, limits)
			}
			if testing.Verbose() {
				t.Logf("history %v", limits)
			}
			// Settled: the last quarter stays in the band too.
			for i, v := range limits[len(limits)*3/4:] {
				if v < tc.lo || v > tc.hi*11/10 {
					t.Fatalf("limit %d at round %d of the last quarter, want about %d..%d; history %v", v, i, tc.lo, tc.hi, limits)
				}
			}
		})
	}
}

func TestRefusalsCutTheLimitWithinOneWindow(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 8, Max: 1024})
	// 640 calls at once, the upstream refuses all beyond 200.
	limits := rounds(t, l, c, upstream{delay: 50 * time.Millisecond, capacity: 100, overload: 200}, 640, 1)
	if limits[0] > 180 {
		t.Fatalf("limit %d after a round with 440 refusals, want at most 0.9 × 200", limits[0])
	}
}

func TestStrayDropsDoNotMoveTheLimit(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 8, Max: 64})
	for range 100 {
		ps := make([]Permit, 20)
		for i := range ps {
			ps[i], _ = l.Acquire(context.Background())
		}
		c.advance(10 * time.Millisecond)
		for i, p := range ps {
			if i == 0 { // one in twenty dropped: the network, not load
				p.Done(Overloaded)
			} else {
				p.Done(Answered)
			}
		}
	}
	if got := l.Limit(); got != 64 {
		t.Fatalf("limit %d after stray drops, want 64", got)
	}
}

func TestLimitGrowsBackOnlyWhenUsed(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 8, Max: 1024, Initial: 100})
	healthy := upstream{delay: 20 * time.Millisecond}
	// 50 calls never reach the limit of 100: nothing to learn, no growth.
	rounds(t, l, c, healthy, 50, 50)
	if got := l.Limit(); got != 100 {
		t.Fatalf("limit %d with 50 of 100 used, want 100", got)
	}
	// Demand beyond the limit at flat latency: it grows to the ceiling.
	limits := rounds(t, l, c, healthy, 5000, 100)
	if got := limits[len(limits)-1]; got != 1024 {
		t.Fatalf("limit %d after 100 saturated healthy rounds, want 1024; history %v", got, limits)
	}
	for i := 1; i < len(limits); i++ {
		if limits[i] < limits[i-1] {
			t.Fatalf("limit fell from %d to %d at round %d on a healthy upstream", limits[i-1], limits[i], i)
		}
	}
}

func TestOnChangeReportsEveryNewLimit(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	var seen []int
	l := newLimiter(c, Config{Min: 8, Max: 1024, OnChange: func(n int) { seen = append(seen, n) }})
	limits := rounds(t, l, c, upstream{delay: 50 * time.Millisecond, capacity: 100, overload: 200}, 640, 20)
	if len(seen) == 0 || seen[len(seen)-1] != limits[len(limits)-1] {
		t.Fatalf("OnChange saw %v, limits were %v", seen, limits)
	}
}

func TestWaitersAreServedInOrder(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 1, Max: 1})
	first, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := l.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			p.Done(Answered)
		}()
		waitFor(t, func() bool { return l.Snapshot().Waiting == i+1 })
	}
	first.Done(Answered)
	wg.Wait()
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Fatalf("served in order %v, want [0 1 2]", order)
	}
	if s := l.Snapshot(); s.InFlight != 0 || s.Waiting != 0 {
		t.Fatalf("after all: %+v", s)
	}
}

func TestACanceledWaiterLeavesNoTrace(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 1, Max: 1})
	held, _ := l.Acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx)
		errc <- err
	}()
	waitFor(t, func() bool { return l.Snapshot().Waiting == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Acquire returned %v", err)
	}
	held.Done(Ignore)
	if s := l.Snapshot(); s.InFlight != 0 || s.Waiting != 0 {
		t.Fatalf("after the canceled waiter: %+v", s)
	}
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatalf("slot not free after the canceled waiter: %v", err)
	}
}

func TestIgnoredCallsTeachNothing(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 8, Max: 100})
	for range 50 {
		ps := make([]Permit, 100)
		for i := range ps {
			ps[i], _ = l.Acquire(context.Background())
		}
		c.advance(time.Second)
		for _, p := range ps {
			p.Done(Ignore)
		}
	}
	if got := l.Limit(); got != 100 {
		t.Fatalf("limit %d after ignored calls only, want 100", got)
	}
}

// waitFor polls cond: goroutines reaching a lock have no event to wait on.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition not reached in 2s")
}
