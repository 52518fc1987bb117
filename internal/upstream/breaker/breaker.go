// Package breaker is the gateway's circuit breaker for calls that must not
// hammer a failing upstream.
//
// CLOSED lets calls through and counts failures in a sliding window; the
// threshold-th failure inside the window opens the circuit. OPEN rejects at
// once, telling the caller when to come back. When the open period ends the
// circuit is HALF_OPEN: exactly one probe goes through at a time. A probe's
// success closes the circuit and resets the backoff; its failure opens it
// again for twice as long, up to a cap. Each open period gets a little random
// extra so that a fleet of gateways does not probe in lockstep.
//
// Only upstream failures count (5xx, dropped connection, timeout); a 4xx or
// the caller cancelling is reported as Ignored and changes nothing.
//
// A fleet of gateways shares one circuit through Config.Shared (Redis is one
// such state): failures are counted fleet-wide in the window, OPEN is seen by
// every replica, and one probe passes for the whole fleet per half-open
// period. When the shared state cannot be reached the breaker decides on
// its own local state, as a single process does.
package breaker

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// State is a circuit state.
type State int32

// The circuit states.
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "CLOSED"
	case Open:
		return "OPEN"
	case HalfOpen:
		return "HALF_OPEN"
	}
	return "UNKNOWN"
}

// Outcome is what became of an allowed call.
type Outcome int

// The outcomes a caller reports.
const (
	// Success: the upstream did its job.
	Success Outcome = iota
	// Failure: the upstream failed (5xx, dropped connection, timeout).
	Failure
	// Ignored: the call says nothing about the upstream's health (a 4xx,
	// the caller cancelling). A probe that ends so frees the probe slot.
	Ignored
)

// Config configures a Breaker. Zero durations and threshold take the
// defaults in brackets.
type Config struct {
	// FailureThreshold failures [3] within FailureWindow [30s] open the circuit.
	FailureThreshold int
	FailureWindow    time.Duration
	// ResetTimeout [10s] is the first open period; each failed probe doubles
	// it, up to MaxResetTimeout [60s].
	ResetTimeout    time.Duration
	MaxResetTimeout time.Duration
	// Jitter adds up to this share of random extra to each open period
	// (0.1: up to 10 %). Zero means none.
	Jitter float64
	// Now is the clock [time.Now]; tests inject a fake one.
	Now func() time.Time
	// Rand returns a number in [0, 1) for the jitter [math/rand/v2].
	Rand func() float64
	// OnStateChange, if set, runs after every transition, outside the
	// breaker's lock but in the order the transitions happened, so a gauge
	// it sets ends at the present state. It must not call the Breaker.
	// With Shared, it runs on the replica whose call caused the transition,
	// in the order that replica learnt of them.
	OnStateChange func(from, to State)
	// Shared, if set, holds the circuit's state for a fleet [nil: local].
	Shared Shared
	// OnSharedError, if set, runs when Shared fails and the breaker decides
	// locally instead (metrics, logs).
	OnSharedError func(err error)
}

// Permit is the breaker's answer to Allow. When the call is rejected it
// carries the state and how long until a probe may pass.
type Permit struct {
	// State is the circuit state when Allow answered.
	State State
	// RetryAfter is how long until a call may be tried again (rejections only).
	RetryAfter time.Duration
	probe      bool
	generation uint64
	shared     *Decision // the shared state's decision, when it made one
}

// Breaker is a circuit breaker. It is safe for concurrent use, and Allow and
// Done allocate nothing.
type Breaker struct {
	cfg Config

	mu sync.Mutex
	// notifying is taken, before mu is let go, by the call that made a
	// transition, and held while OnStateChange runs: the next transition
	// needs mu, so its notice waits for this one. Without it two notices
	// could swap on their way out and a state gauge end on a state the
	// circuit has left.
	notifying  sync.Mutex
	state      State
	generation uint64      // bumped on every transition; stale permits are ignored
	failures   []time.Time // ring of the last FailureThreshold failure times
	next       int         // ring position of the oldest failure
	count      int         // failures in the ring
	openFor    time.Duration
	openUntil  time.Time
	probing    bool
}

// New returns a closed Breaker.
func New(cfg Config) *Breaker {
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = 3
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 30 * time.Second
	}
	if cfg.ResetTimeout <= 0 {
		cfg.ResetTimeout = 10 * time.Second
	}
	if cfg.MaxResetTimeout < cfg.ResetTimeout {
		cfg.MaxResetTimeout = max(cfg.ResetTimeout, 60*time.Second)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	return &Breaker{cfg: cfg, failures: make([]time.Time, cfg.FailureThreshold)}
}

// State returns the current state. An OPEN circuit whose period has ended is
// reported as HALF_OPEN: the next call will be a probe.
func (b *Breaker) State() State {
	s, _ := b.Status()
	return s
}

// Status returns the state and, while OPEN, how long until a probe may pass.
func (b *Breaker) Status() (State, time.Duration) {
	if b.cfg.Shared != nil {
		st, left, err := b.cfg.Shared.Status(context.Background(), b.cfg.Now())
		if err == nil {
			return st, left
		}
		b.sharedFailed(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != Open {
		return b.state, 0
	}
	left := b.openUntil.Sub(b.cfg.Now())
	if left <= 0 {
		return HalfOpen, 0
	}
	return Open, left
}

// Allow asks whether a call may go to the upstream now. If ok, the caller
// must make the call and report its outcome with Done. ctx bounds a call
// to the shared state, if any.
func (b *Breaker) Allow(ctx context.Context) (p Permit, ok bool) {
	if b.cfg.Shared != nil {
		if p, ok, done := b.allowShared(ctx); done {
			return p, ok
		}
	}
	b.mu.Lock()
	from := b.state
	switch b.state {
	case Closed:
		p = Permit{State: Closed, generation: b.generation}
		b.mu.Unlock()
		return p, true
	case Open:
		now := b.cfg.Now()
		if now.Before(b.openUntil) {
			p = Permit{State: Open, RetryAfter: b.openUntil.Sub(now)}
			b.mu.Unlock()
			return p, false
		}
		b.transition(HalfOpen, now)
	}
	// HALF_OPEN: one probe at a time.
	if b.probing {
		// The probe's answer is at most one upstream call away.
		p = Permit{State: HalfOpen, RetryAfter: time.Second}
		b.mu.Unlock()
		return p, false
	}
	b.probing = true
	p = Permit{State: HalfOpen, probe: true, generation: b.generation}
	if from == HalfOpen {
		b.mu.Unlock()
		return p, true
	}
	b.unlockAndNotify(from, HalfOpen)
	return p, true
}

// Done records the outcome of a call Allow let through. Outcomes of calls
// allowed before the last transition are ignored: only the present state's
// calls decide its future.
func (b *Breaker) Done(ctx context.Context, p Permit, o Outcome) {
	if p.shared != nil {
		if b.doneShared(ctx, p, o) {
			return
		}
		// The shared state is out of reach: count the outcome locally, as
		// a call through the local circuit.
		b.mu.Lock()
		p = Permit{generation: b.generation}
		b.mu.Unlock()
	}
	b.mu.Lock()
	if p.generation != b.generation {
		b.mu.Unlock()
		return
	}
	if !p.probe && o != Failure {
		// The common case, a call through a closed circuit that did not fail:
		// nothing to record.
		b.mu.Unlock()
		return
	}
	now := b.cfg.Now()
	from := b.state
	switch {
	case p.probe && o == Success:
		b.openFor = 0
		b.count = 0
		b.transition(Closed, now)
	case p.probe && o == Failure:
		b.openFor = min(2*b.openFor, b.cfg.MaxResetTimeout)
		b.transition(Open, now)
	case p.probe:
		b.probing = false
	case o == Failure && b.recordFailure(now):
		b.openFor = b.cfg.ResetTimeout
		b.transition(Open, now)
	}
	if to := b.state; to != from {
		b.unlockAndNotify(from, to)
		return
	}
	b.mu.Unlock()
}

// recordFailure adds a failure at now and reports whether the threshold is
// reached within the window. Called with b.mu held.
func (b *Breaker) recordFailure(now time.Time) bool {
	n := len(b.failures)
	if b.count < n {
		b.failures[(b.next+b.count)%n] = now
		b.count++
	} else {
		b.failures[b.next] = now
		b.next = (b.next + 1) % n
	}
	oldest := b.failures[b.next]
	return b.count == n && now.Sub(oldest) < b.cfg.FailureWindow
}

// transition moves to state to. Called with b.mu held.
func (b *Breaker) transition(to State, now time.Time) {
	b.state = to
	b.generation++
	b.probing = false
	if to == Open {
		extra := time.Duration(b.cfg.Jitter * b.cfg.Rand() * float64(b.openFor))
		b.openUntil = now.Add(b.openFor + extra)
		b.count, b.next = 0, 0
	}
}

// unlockAndNotify lets go of b.mu, held since the transition from → to,
// and tells OnStateChange after any earlier transition's notice.
func (b *Breaker) unlockAndNotify(from, to State) {
	b.notifying.Lock()
	b.mu.Unlock()
	defer b.notifying.Unlock()
	b.notify(from, to)
}

func (b *Breaker) notify(from, to State) {
	if b.cfg.OnStateChange != nil {
		b.cfg.OnStateChange(from, to)
	}
}

// RetryAfterSeconds rounds d up to whole seconds, at least 1: the form of
// an HTTP Retry-After header and of GraphQL's retryAfter.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
