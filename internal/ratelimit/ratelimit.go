// Package ratelimit keeps a budget per caller: how many requests, or how
// much GraphQL cost, a caller may spend per period. Memory keeps the
// budgets of one process; Redis keeps them for a fleet of replicas, so a
// caller's budget is the same whichever replica it reaches; Fallback
// answers from a Memory while Redis fails, so a Redis outage neither opens
// the door to every caller nor closes it on them. Budgets puts the request
// and the cost limiters together with the exemptions.
//
// The package does not answer HTTP: a front door turns a refused Decision
// into its own error (429, Retry-After, RATE_LIMITED). Only the caller key
// (address.go, key.go) reads an *http.Request.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Decision is a limiter's answer to one Allow.
type Decision struct {
	// Allowed reports whether the cost was spent; a refused cost spends
	// nothing.
	Allowed bool
	// Remaining is how many units the key may still spend at once after
	// this decision; -1 when no limit applies (Unlimited).
	Remaining int
	// RetryAfter is, when refused, how long until the same cost would be
	// allowed (if nothing else is spent meanwhile); 0 when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's budget is whole again.
	ResetAfter time.Duration
}

// Unlimited is the decision when no limit applies: the limit is off or the
// caller is exempt. A door writes no rate-limit headers for it.
var Unlimited = Decision{Allowed: true, Remaining: -1}

// Limiter spends cost units from the budget of key.
type Limiter interface {
	// Allow spends cost (at least 1) from key's budget if the budget holds
	// it, and says so. A cost larger than the whole budget is never
	// allowed: it is refused with a RetryAfter of the full period. An
	// error means the budget could not be consulted (Redis failed); the
	// Decision is then meaningless.
	Allow(ctx context.Context, key string, cost int) (Decision, error)
}

// ErrCost is returned for a cost below 1: spending nothing is the caller's
// decision to make before asking (a programming error, not a refusal).
var ErrCost = errors.New("ratelimit: cost must be at least 1")

// precheck answers what needs no bucket: a cost below 1 is an error, a
// cost above the whole budget a refusal for the full period (Remaining and
// ResetAfter are then not looked up: 0). decided is false when the bucket
// must decide.
func precheck(r Rate, cost int) (d Decision, decided bool, err error) {
	switch {
	case cost < 1:
		return Decision{}, true, fmt.Errorf("%w (got %d)", ErrCost, cost)
	case cost > r.N:
		// Waiting cannot make it fit; the full period says "not soon" to a
		// client that honours Retry-After, and nothing is spent.
		return Decision{Allowed: false, RetryAfter: r.Per}, true, nil
	}
	return Decision{}, false, nil
}

// RetryAfterSeconds is d in whole seconds for a Retry-After header: rounded
// up, so a client that waits that long is allowed, and at least 1, since
// "Retry-After: 0" invites an immediate retry that would be refused again.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
