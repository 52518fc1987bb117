package breaker

import (
	"context"
	"time"
)

// Shared keeps a circuit's state where every replica of a fleet sees it.
// Every method is one atomic step on the shared state; now is the caller's
// clock (replicas' clocks are assumed to agree to well within a second).
type Shared interface {
	// Admit decides on one call at now, as Breaker.Allow does.
	Admit(ctx context.Context, now time.Time, s Settings) (Decision, error)
	// Record records the outcome of a call d admitted, as Breaker.Done
	// does, and returns the transition it caused (from == to: none).
	Record(ctx context.Context, now time.Time, d Decision, o Outcome, s Settings) (from, to State, err error)
	// Status returns the state and, while OPEN, how long until a probe.
	Status(ctx context.Context, now time.Time) (State, time.Duration, error)
}

// Settings are the breaker's parameters, given to the shared state with
// every step so that the state itself holds only what changes.
type Settings struct {
	Threshold       int
	Window          time.Duration
	ResetTimeout    time.Duration
	MaxResetTimeout time.Duration
	// Extra is this step's random extra share of an open period (jitter).
	Extra float64
}

// Decision is the shared state's answer to Admit.
type Decision struct {
	Allowed    bool
	Probe      bool
	State      State
	RetryAfter time.Duration
	// Generation is the shared state's transition count when it decided:
	// an outcome recorded after a later transition is ignored.
	Generation int64
	// Token identifies the call (its failure entry, its probe lease).
	Token string
}

func (b *Breaker) settings() Settings {
	return Settings{
		Threshold: b.cfg.FailureThreshold, Window: b.cfg.FailureWindow,
		ResetTimeout: b.cfg.ResetTimeout, MaxResetTimeout: b.cfg.MaxResetTimeout,
		Extra: b.cfg.Jitter * b.cfg.Rand(),
	}
}

// allowShared asks the shared state; done is false when it could not be
// reached and the local state must decide.
func (b *Breaker) allowShared(ctx context.Context) (p Permit, ok, done bool) {
	d, err := b.cfg.Shared.Admit(ctx, b.cfg.Now(), b.settings())
	if err != nil {
		b.sharedFailed(err)
		return Permit{}, false, false
	}
	p = Permit{State: d.State, RetryAfter: d.RetryAfter, probe: d.Probe, shared: &d}
	if d.Allowed && d.Probe && d.State == HalfOpen {
		// This replica's call is the fleet's probe: the circuit left OPEN.
		b.notify(Open, HalfOpen)
	}
	return p, d.Allowed, true
}

// doneShared records p's outcome in the shared state; false when it could
// not be reached and the local state must record it.
func (b *Breaker) doneShared(ctx context.Context, p Permit, o Outcome) bool {
	// An outcome is recorded even if its caller has left: it happened.
	from, to, err := b.cfg.Shared.Record(context.WithoutCancel(ctx), b.cfg.Now(), *p.shared, o, b.settings())
	if err != nil {
		b.sharedFailed(err)
		return false
	}
	if from != to {
		b.notify(from, to)
	}
	return true
}

func (b *Breaker) sharedFailed(err error) {
	if b.cfg.OnSharedError != nil {
		b.cfg.OnSharedError(err)
	}
}
