package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Memory keeps budgets in this process: one token bucket per key
// (golang.org/x/time/rate, burst N, refilled N per Per), the keys in an
// LRU of bounded size so that a flood of distinct keys (spoofed addresses,
// made-up user ids) cannot grow memory without bound. A key pushed out is
// forgotten: seen again, it starts with a whole budget. A bucket idle for
// a period is whole anyway, so only a key both active and crowded out by
// maxKeys busier keys in between gains by it.
type Memory struct {
	r     Rate
	limit rate.Limit
	now   func() time.Time
	keys  *lru.Cache[string, *rate.Limiter]
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns a Memory spending from budgets of r, holding at most
// maxKeys keys; now is the clock (time.Now if nil).
func NewMemory(r Rate, maxKeys int, now func() time.Time) (*Memory, error) {
	if r.N < 1 || r.Per <= 0 {
		return nil, fmt.Errorf("ratelimit: memory limiter of rate %q: want N ≥ 1 per a positive period", r)
	}
	keys, err := lru.New[string, *rate.Limiter](maxKeys)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: memory limiter of %d keys: %w", maxKeys, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{r: r, limit: rate.Limit(float64(r.N) / r.Per.Seconds()), now: now, keys: keys}, nil
}

// Allow implements Limiter. It never fails.
func (m *Memory) Allow(_ context.Context, key string, cost int) (Decision, error) {
	if d, decided, err := precheck(m.r, cost); decided {
		return d, err
	}
	lim := m.bucket(key)
	now := m.now()
	allowed := lim.AllowN(now, cost)
	// Read after spending: another caller of the same key may spend in
	// between, which makes the figures a moment old, never the decision
	// wrong (AllowN decided it under the bucket's lock).
	tokens := lim.TokensAt(now)
	d := Decision{
		Allowed:    allowed,
		Remaining:  max(int(math.Floor(tokens)), 0),
		ResetAfter: m.refill(float64(m.r.N) - tokens),
	}
	if !allowed {
		d.RetryAfter = max(m.refill(float64(cost)-tokens), time.Nanosecond)
	}
	return d, nil
}

// Len is the number of keys held, for a gauge.
func (m *Memory) Len() int { return m.keys.Len() }

// bucket returns key's bucket, made whole if the key is new.
func (m *Memory) bucket(key string) *rate.Limiter {
	if lim, ok := m.keys.Get(key); ok {
		return lim
	}
	lim := rate.NewLimiter(m.limit, m.r.N)
	// Another goroutine may have added key meanwhile: both must use one.
	if prev, found, _ := m.keys.PeekOrAdd(key, lim); found {
		return prev
	}
	return lim
}

// refill is how long tokens take to come back, rounded up to the
// nanosecond so that waiting that long is enough.
func (m *Memory) refill(tokens float64) time.Duration {
	if tokens <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(tokens * float64(m.r.Per) / float64(m.r.N)))
}
