package adaptivelimit

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
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

// sustained drives l with demand callers in a closed loop for d of the
// manual clock's time: a caller starts its next call as soon as its last
// one ended and the limit lets it. A call's latency is the upstream's for
// the calls in flight when it arrives (itself included), a refusal takes
// 1ms. It returns the limit every 100ms and the refusals and answers of
// the second half.
func sustained(t *testing.T, l *Limiter, c *clock, u upstream, demand int, d time.Duration) (limits []int, refusedLate, answeredLate int) {
	t.Helper()
	type call struct {
		p       Permit
		end     time.Time
		refused bool
	}
	var inFlight []call // kept sorted by end
	start, nextSample := c.t, c.t
	for c.t.Sub(start) < d {
		for len(inFlight) < min(demand, l.Limit()) {
			p, err := l.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n := len(inFlight) + 1
			x := call{p: p, end: c.t.Add(u.latency(n))}
			if u.overload > 0 && n > u.overload {
				x.end, x.refused = c.t.Add(time.Millisecond), true
			}
			i, _ := slices.BinarySearchFunc(inFlight, x.end, func(a call, e time.Time) int { return a.end.Compare(e) })
			inFlight = slices.Insert(inFlight, i, x)
		}
		x := inFlight[0]
		inFlight = inFlight[1:]
		c.t = x.end
		late := c.t.Sub(start) > d/2
		if x.refused {
			x.p.Done(Overloaded)
			if late {
				refusedLate++
			}
		} else {
			x.p.Done(Answered)
			if late {
				answeredLate++
			}
		}
		for !c.t.Before(nextSample) {
			limits = append(limits, l.Limit())
			nextSample = nextSample.Add(100 * time.Millisecond)
		}
	}
	for _, x := range inFlight {
		x.p.Done(Ignore)
	}
	return limits, refusedLate, answeredLate
}

func newLimiter(c *clock, cfg Config) *Limiter {
	cfg.Now = c.now
	return New(cfg)
}

// Against an upstream with a capacity, under more demand than it takes,
// the limit settles between the capacity and 1.5 × it plus the small queue
// Vegas keeps (the latency tolerance is 1.3): the upstream's latency stays
// within about 1.5 × its uncongested level and, once settled, it refuses
// nothing.
func TestLimitSettlesNearTheUpstreamsCapacity(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		up     upstream
		demand int
		lo, hi int
	}{
		{"capacity 100 at 50ms, 503 beyond 200", Config{Min: 8, Max: 1024},
			upstream{delay: 50 * time.Millisecond, capacity: 100, overload: 200}, 320, 100, 150},
		{"capacity 100 at 500ms, 503 beyond 200", Config{Min: 8, Max: 1024},
			upstream{delay: 500 * time.Millisecond, capacity: 100, overload: 200}, 2000, 100, 150},
		{"capacity 30 at 50ms, never refuses", Config{Min: 8, Max: 1024},
			upstream{delay: 50 * time.Millisecond, capacity: 30}, 400, 30, 50},
		{"the floor holds above a capacity of 10", Config{Min: 50, Max: 1024},
			upstream{delay: 20 * time.Millisecond, capacity: 10}, 400, 50, 50},
		{"a fixed limit never moves", Config{Min: 128, Max: 128},
			upstream{delay: 20 * time.Millisecond, capacity: 10, overload: 20}, 400, 128, 128},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(0, 0)}
			l := newLimiter(c, tc.cfg)
			limits, refused, answered := sustained(t, l, c, tc.up, tc.demand, 200*tc.up.delay)
			// Settled: never above the band, and in it but for the probe
			// windows (half the limit, one window in thirty).
			late, in := limits[len(limits)/2:], 0
			for i, v := range late {
				if v > tc.hi {
					t.Fatalf("limit %d at sample %d of the second half, want at most %d; history %v", v, len(limits)/2+i, tc.hi, limits)
				}
				if v >= tc.lo {
					in++
				}
			}
			if in*10 < len(late)*9 {
				t.Fatalf("limit in %d..%d for %d of %d samples of the second half, want 90 %%; history %v", tc.lo, tc.hi, in, len(late), limits)
			}
			if tc.cfg.Min != tc.cfg.Max && refused*100 > answered {
				t.Errorf("%d refusals against %d answers in the second half: over 1 %%", refused, answered)
			}
			if testing.Verbose() {
				t.Logf("limits %v; second half: %d refused, %d answered", limits, refused, answered)
			}
		})
	}
}

// A healthy upstream gets every burst whole: a thousand calls at once,
// answered over 500–600ms (the spread of processing a thousand answers),
// do not bring the limit below the burst.
func TestBurstsAtAHealthyUpstreamKeepTheCeiling(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := newLimiter(c, Config{Min: 8, Max: 1024})
	for q := range 20 {
		start := c.t
		ps := make([]Permit, 1000)
		for i := range ps {
			ps[i], _ = l.Acquire(context.Background())
		}
		for i, p := range ps {
			c.t = start.Add(500*time.Millisecond + time.Duration(i)*100*time.Microsecond)
			p.Done(Answered)
		}
		if got := l.Limit(); got < 1000 {
			t.Fatalf("limit %d after burst %d: the next burst would take two round trips", got, q)
		}
		c.t = c.t.Add(20 * time.Millisecond) // the client's next query
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
	// It never comes down but for a probe window (half the limit, restored
	// after it).
	high := 0
	for i, v := range limits {
		if v < high && v > high*55/100 {
			t.Fatalf("limit fell from %d to %d at round %d on a healthy upstream; history %v", high, v, i, limits)
		}
		high = max(high, v)
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
		testwait.For(t, func() bool { return l.Snapshot().Waiting == i+1 })
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
	testwait.For(t, func() bool { return l.Snapshot().Waiting == 1 })
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
