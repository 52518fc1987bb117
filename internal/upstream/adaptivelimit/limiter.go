// Package adaptivelimit bounds the calls in flight to one upstream route with
// a limit that follows what the upstream can take, after Netflix's
// concurrency-limits (TCP Vegas applied to requests): the limit grows while
// the upstream's latency stays at its uncongested level and the limit is
// actually used, and shrinks when latency rises above that level (calls are
// queueing inside the upstream) or the upstream refuses calls (429, 503,
// dropped connections, timeouts).
//
// Why not failsafe-go's adaptivelimiter (v0.9.8, read in full): it adapts on
// latency only (a dropped permit releases without lowering the limit, so a
// 503 storm is invisible to it), it moves the limit at most once per
// sampling window of at least a second and by about log10(limit) per step
// (from 1024 down to an upstream's 100 takes minutes), its limit is capped
// at five times the calls in flight (a gateway whose one request fans out
// to 1000 calls would start every burst at a limit sized for the quiet
// before it), and it reads the wall clock inside, so tests cannot be exact.
// The algorithm here is small; docs/resilience.md describes it.
package adaptivelimit

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Outcome is what one call says about the upstream's load.
type Outcome int

const (
	// Ignore: the call says nothing about load (the caller left, the
	// request was refused for its content).
	Ignore Outcome = iota
	// Answered: the upstream answered (any answer, 404 included); its
	// latency is a sample.
	Answered
	// Overloaded: the upstream refused or dropped the call (429, 503, a
	// dropped connection, no answer in time).
	Overloaded
)

// Config configures a Limiter.
type Config struct {
	// Min and Max bound the limit. Min == Max is a fixed limit.
	Min, Max int
	// Initial is the starting limit; 0 means Max. Starting at the ceiling
	// lets a healthy upstream take a whole burst at once; an upstream that
	// cannot take it says so within one round trip, and the limit follows.
	Initial int
	// Tolerance is the latency, as a multiple of the uncongested one, that
	// still counts as uncongested: a burst of a thousand calls comes back
	// spread over a tenth of a round trip by the gateway's and the
	// upstream's own processing, which is not the upstream queueing.
	// Default 1.3 (Netflix's Gradient2 uses 1.5; lower keeps the limit
	// nearer an upstream's capacity).
	Tolerance float64
	// Noise is an absolute latency rise that still counts as uncongested:
	// the scheduling delay of a busy machine, which dominates an upstream
	// answering in microseconds. Default 1ms.
	Noise time.Duration
	// MinWindow is the shortest sampling window; a window also lasts at
	// least one uncongested round trip. Default 50ms.
	MinWindow time.Duration
	// MinSamples is how many finished calls a window needs. Default 10.
	MinSamples int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnChange, if set, is called with every new limit, outside the lock.
	OnChange func(limit int)
}

// baselineWindows is how many windows the uncongested latency is the
// minimum of: long enough to remember it through a congested spell, short
// enough to follow an upstream that became slower for good.
const baselineWindows = 100

// probeEvery is how many windows pass between probes. A limit that is
// always full never sees the upstream uncongested: every call finds as
// many in flight, and the fastest answer is already a queued one. So now
// and then one window runs at half the limit (TCP BBR's ProbeRTT, for the
// same reason), which costs that window half its calls' room, about 3 %.
const probeEvery = 30

// calmWindows is how many windows without a decrease make growth
// multiplicative.
const calmWindows = 10

// Limiter is an adaptive concurrency limit with a FIFO queue of waiting
// callers. It is safe for concurrent use.
type Limiter struct {
	cfg Config

	mu         sync.Mutex
	limit      float64
	inFlight   int
	waiters    []*waiter
	win        window
	changedAt  time.Time                      // calls started before it saw another limit
	mins       [baselineWindows]time.Duration // fastest answer of each window, a ring
	nMins      int
	baseline   time.Duration // min of mins; 0 until the first window
	recent     time.Duration // the last window's p90
	calm       int           // windows since the limit last went down
	sinceProbe int           // windows since the last probe
	probeFrom  float64       // the limit a probe window will restore; 0: not probing
	rng        *rand.Rand    // reservoir sampling; seeded, so runs repeat
}

// window accumulates the calls finished since the last decision that
// started under the current limit.
type window struct {
	start      time.Time // the first call started under it
	answered   int
	overloaded int
	rtts       []time.Duration // a uniform sample of the answered calls' latencies
	minRTT     time.Duration
	maxOK      int  // most calls in flight when an answered call started
	minRefused int  // fewest calls in flight when a refused call started
	saturated  bool // every permit was taken, or someone waited
}

// maxWindowSamples bounds the latencies a window keeps (reservoir
// sampling beyond it), so a window costs the same at any load.
const maxWindowSamples = 256

type waiter struct {
	ready chan struct{}
	done  bool // granted (under mu)
}

// New returns a Limiter for cfg; it panics on Min < 1 or Max < Min, which
// the configuration rejects before.
func New(cfg Config) *Limiter {
	if cfg.Min < 1 || cfg.Max < cfg.Min {
		panic("adaptivelimit: want 1 <= Min <= Max")
	}
	if cfg.Initial == 0 {
		cfg.Initial = cfg.Max
	}
	cfg.Initial = min(max(cfg.Initial, cfg.Min), cfg.Max)
	if cfg.Tolerance < 1 {
		cfg.Tolerance = 1.3
	}
	if cfg.Noise == 0 {
		cfg.Noise = time.Millisecond
	}
	if cfg.MinWindow == 0 {
		cfg.MinWindow = 50 * time.Millisecond
	}
	if cfg.MinSamples == 0 {
		cfg.MinSamples = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, limit: float64(cfg.Initial), rng: rand.New(rand.NewPCG(1, 2))}
	l.win = window{rtts: make([]time.Duration, 0, maxWindowSamples)}
	return l
}

// Permit is one call's slot; Done gives it back.
type Permit struct {
	l        *Limiter
	start    time.Time
	inFlight int
}

// startWindowLocked dates the window from its first call, not from the
// decision before it: a window after a quiet spell must still last.
func (l *Limiter) startWindowLocked() {
	if l.win.start.IsZero() {
		l.win.start = l.cfg.Now()
	}
}

// Done releases the slot and feeds the call's outcome to the limit. Calls
// that started before the limit last changed are not counted: they show
// what the old limit did.
func (p Permit) Done(o Outcome) {
	l := p.l
	if l == nil {
		return
	}
	now := l.cfg.Now()
	l.mu.Lock()
	l.inFlight--
	if !p.start.Before(l.changedAt) {
		w := &l.win
		switch o {
		case Answered:
			rtt := now.Sub(p.start)
			if w.answered == 0 || rtt < w.minRTT {
				w.minRTT = rtt
			}
			w.answered++
			if len(w.rtts) < maxWindowSamples {
				w.rtts = append(w.rtts, rtt)
			} else if i := l.rng.IntN(w.answered); i < maxWindowSamples {
				w.rtts[i] = rtt
			}
			w.maxOK = max(w.maxOK, p.inFlight)
		case Overloaded:
			if w.overloaded == 0 || p.inFlight < w.minRefused {
				w.minRefused = p.inFlight
			}
			w.overloaded++
		}
	}
	changed, limit := l.maybeDecideLocked(now)
	wake := l.wakeLocked()
	l.mu.Unlock()
	wakeAll(wake)
	if changed && l.cfg.OnChange != nil {
		l.cfg.OnChange(limit)
	}
}

// Snapshot is the limiter's state, for metrics and /readyz.
type Snapshot struct {
	Limit    int `json:"limit"`
	InFlight int `json:"inFlight"`
	Waiting  int `json:"waiting"`
	// BaselineMS is the uncongested latency the limit compares against.
	BaselineMS float64 `json:"baselineMs"`
	// RecentMS is the last window's 90th-percentile latency.
	RecentMS float64 `json:"recentMs"`
}

// Snapshot returns the current state.
func (l *Limiter) Snapshot() Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Snapshot{Limit: l.cap(), InFlight: l.inFlight, Waiting: len(l.waiters),
		BaselineMS: float64(l.baseline) / float64(time.Millisecond), RecentMS: float64(l.recent) / float64(time.Millisecond)}
}

// Limit returns the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cap()
}

func (l *Limiter) cap() int { return int(l.limit) }

// wakeLocked grants slots to waiters, first come first served, while the
// limit allows; the caller closes the returned channels after unlocking.
func (l *Limiter) wakeLocked() []*waiter {
	var wake []*waiter
	for len(l.waiters) > 0 && l.inFlight < l.cap() {
		w := l.waiters[0]
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
		w.done = true
		l.inFlight++
		wake = append(wake, w)
	}
	if len(l.waiters) == 0 {
		l.waiters = nil // let the backing array go
	}
	return wake
}

func wakeAll(ws []*waiter) {
	for _, w := range ws {
		close(w.ready)
	}
}

func (l *Limiter) removeLocked(w *waiter) {
	for i, x := range l.waiters {
		if x == w {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			return
		}
	}
}

// refused reports whether the upstream refused enough of window w's calls
// to say it is overloaded: at least two and a tenth of them (one dropped
// connection is the network, not load).
func refused(w *window) bool {
	return w.overloaded >= 2 && w.overloaded*10 >= w.answered+w.overloaded
}

// maybeDecideLocked closes the window once it holds enough calls, at once
// on refusals, otherwise when it has lasted two uncongested round trips
// (and MinWindow): a burst's early answers are its fast ones, and a window
// of one round trip would see only them.
func (l *Limiter) maybeDecideLocked(now time.Time) (bool, int) {
	w := &l.win
	if w.answered+w.overloaded < l.cfg.MinSamples {
		return false, 0
	}
	// Before the first window there is no baseline: the window's own
	// fastest answer stands in for it.
	rtt := l.baseline
	if rtt == 0 {
		rtt = w.minRTT
	}
	if !refused(w) && (w.start.IsZero() || now.Sub(w.start) < max(l.cfg.MinWindow, 2*rtt)) {
		return false, 0
	}
	old := l.cap()
	switch {
	case l.probeFrom > 0 && !refused(w):
		// The probe window ran at half the limit: its fastest answer is
		// the uncongested latency a saturated limit cannot show.
		l.recordMin(w)
		l.limit, l.probeFrom, l.sinceProbe = l.probeFrom, 0, 0
	case l.probeFrom == 0 && w.saturated && l.sinceProbe >= probeEvery && l.cfg.Min < l.cfg.Max && !refused(w):
		l.probeFrom = l.decide(w)
		l.limit = max(float64(l.cfg.Min), math.Floor(l.probeFrom/2))
	default:
		l.probeFrom = 0
		l.limit = l.decide(w)
		l.sinceProbe++
		if l.cap() < old {
			l.calm = 0
		} else {
			l.calm++
		}
	}
	l.win = window{rtts: w.rtts[:0], saturated: l.inFlight >= l.cap() || len(l.waiters) > 0}
	if l.cap() == old {
		return false, 0
	}
	l.changedAt = now
	return true, l.cap()
}

// decide is the new limit after window w.
func (l *Limiter) decide(w *window) float64 {
	lim, lo, hi := l.limit, float64(l.cfg.Min), float64(l.cfg.Max)
	if lo == hi {
		return lim
	}
	clamp := func(v float64) float64 { return min(max(v, lo), hi) }
	if refused(w) {
		// A call refused with n in flight says n is too many: back off
		// below the fewest.
		return clamp(math.Floor(min(lim, float64(w.minRefused)) * 0.9))
	}
	if w.answered == 0 {
		return lim
	}
	l.recordMin(w)
	// Vegas: the calls queueing inside the upstream are the calls in
	// flight times the share of the latency above the uncongested one.
	// The 90th percentile, not the mean: the calls that arrived last in a
	// burst are the ones that queued.
	slices.Sort(w.rtts)
	l.recent = w.rtts[len(w.rtts)*9/10]
	rtt := float64(l.recent)
	used := float64(w.maxOK)
	uncongested := float64(l.baseline)*l.cfg.Tolerance + float64(l.cfg.Noise)
	queue := used * (1 - uncongested/rtt)
	alpha := max(3, 3*math.Log10(lim))
	beta := max(6, 6*math.Log10(lim))
	switch {
	case queue > beta:
		// What the upstream serves at its uncongested latency, plus the
		// small queue that keeps it busy.
		return clamp(math.Floor(min(lim, used*uncongested/rtt+alpha)))
	case queue < alpha && w.saturated:
		// Additive growth near where the limit last came down, faster
		// once it has held for a while (the upstream got better, or the
		// limit is far below what it takes).
		step := alpha
		if l.calm >= calmWindows {
			step = max(alpha, lim/10)
		}
		return clamp(math.Ceil(lim + step))
	}
	return lim
}

// recordMin adds window w's fastest answer to the baseline's memory.
func (l *Limiter) recordMin(w *window) {
	if w.answered == 0 {
		return
	}
	l.mins[l.nMins%baselineWindows] = w.minRTT
	l.nMins++
	l.baseline = w.minRTT
	for _, r := range l.mins[:min(l.nMins, baselineWindows)] {
		l.baseline = min(l.baseline, r)
	}
}
