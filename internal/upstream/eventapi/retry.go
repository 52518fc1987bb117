package eventapi

import (
	"context"
	"math/rand/v2"
	"time"
)

// Retry is the policy for idempotent GETs: up to MaxRetries more attempts
// after the first, waiting a random time in [0, min(Max, Base·2^n)] between
// them ("full jitter"), so that many gateways retrying at once spread out.
type Retry struct {
	MaxRetries int
	Base, Max  time.Duration
}

// backoff is the wait before retry number n (0-based).
func (r Retry) backoff(n int) time.Duration {
	ceiling := r.Base << min(n, 20)
	if ceiling <= 0 || ceiling > r.Max {
		ceiling = r.Max
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// sleepCtx waits d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
