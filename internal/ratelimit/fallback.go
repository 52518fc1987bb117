package ratelimit

import (
	"context"
	"errors"
	"sync/atomic"
)

// Fallback answers from Primary (the fleet's Redis) and, when Primary
// fails, from Secondary (this process's Memory): while Redis is down a
// caller is limited per replica rather than let through without limit or
// refused outright. Every failure goes to OnError; Degraded reports the
// outage until Primary answers again.
//
// Secondary's budgets are its own: a caller whose Redis budget is spent
// starts the outage with a whole budget on each replica, so a fleet of k
// replicas lets it spend up to k budgets while Redis is down.
type Fallback struct {
	Primary   Limiter
	Secondary Limiter
	// OnError hears every failure of Primary, with op "ratelimit" (for the
	// fleet's gateway_redis_errors_total); nil: not reported.
	OnError func(op string, err error)

	degraded atomic.Bool
}

var _ Limiter = (*Fallback)(nil)

// Allow implements Limiter. It fails only for a cost below 1 or if
// Secondary fails (Memory never does).
func (f *Fallback) Allow(ctx context.Context, key string, cost int) (Decision, error) {
	d, err := f.Primary.Allow(ctx, key, cost)
	switch {
	case err == nil:
		f.degraded.Store(false)
		return d, nil
	case errors.Is(err, ErrCost):
		return d, err // the caller's mistake, not Redis's
	case ctx.Err() == nil:
		f.degraded.Store(true)
		if f.OnError != nil {
			f.OnError("ratelimit", err)
		}
		// With ctx ended, the caller gave up (or ran out of time) while
		// Redis was asked: that says nothing about Redis.
	}
	return f.Secondary.Allow(ctx, key, cost)
}

// Degraded reports whether Primary's last answer was a failure: true from
// a failure until Primary's next success. For /readyz and a gauge.
func (f *Fallback) Degraded() bool { return f.degraded.Load() }
