package ratelimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Budgets are what each caller may spend: Requests, one unit per request
// (or WebSocket operation); Cost, a GraphQL operation's complexity, so a
// caller cannot spend the upstream with a few expensive queries. A nil
// limiter is no limit; a nil *Budgets is no limit at all.
type Budgets struct {
	Requests Limiter
	Cost     Limiter
	// Exempt reports whether the caller of ctx spends from neither budget:
	// the integrator sets it to "has the admin scope (AUTH_ADMIN_SCOPE) or
	// is a client named in RATE_LIMIT_EXEMPT_CLIENTS". It is asked before
	// every spend, so it must be cheap (read the identity already in ctx),
	// and must trust only what authentication established: a client name
	// from a header anyone can send would let anyone exempt itself.
	// nil: nobody is exempt.
	Exempt func(ctx context.Context) bool
}

// Options configure NewBudgets. A zero Rate turns its budget off.
type Options struct {
	Requests Rate // RATE_LIMIT
	Cost     Rate // COST_BUDGET
	// MaxKeys bounds each Memory limiter (RATE_LIMIT_MAX_KEYS).
	MaxKeys int
	// Redis, when not nil, shares the budgets with the fleet, keys under
	// Prefix (REDIS_KEY_PREFIX); each budget then falls back to a Memory
	// while Redis fails. nil: budgets per process.
	Redis  redis.UniversalClient
	Prefix string
	// OnError hears Redis's failures (the fleet's Conn.OnError).
	OnError func(op string, err error)
	// Exempt becomes Budgets.Exempt.
	Exempt func(ctx context.Context) bool
	// Now is the Memory limiters' clock (time.Now if nil).
	Now func() time.Time
}

// NewBudgets returns the budgets o describes: per process (Memory), or with
// Redis shared by the fleet (Fallback of Redis to Memory).
func NewBudgets(o Options) (*Budgets, error) {
	b := &Budgets{Exempt: o.Exempt}
	var err error
	if b.Requests, err = o.limiter("requests", o.Requests); err != nil {
		return nil, err
	}
	if b.Cost, err = o.limiter("cost", o.Cost); err != nil {
		return nil, err
	}
	return b, nil
}

func (o Options) limiter(name string, r Rate) (Limiter, error) {
	if r.IsZero() {
		return nil, nil
	}
	mem, err := NewMemory(r, o.MaxKeys, o.Now)
	if err != nil {
		return nil, err
	}
	if o.Redis == nil {
		return mem, nil
	}
	shared, err := NewRedis(o.Redis, o.Prefix, name, r)
	if err != nil {
		return nil, err
	}
	return &Fallback{Primary: shared, Secondary: mem, OnError: o.OnError}, nil
}

// Enabled reports whether any budget is on: if not, a door need not even
// compute the caller's key.
func (b *Budgets) Enabled() bool { return b != nil && (b.Requests != nil || b.Cost != nil) }

// Request spends one request from key's budget.
func (b *Budgets) Request(ctx context.Context, key string) (Decision, error) {
	if b == nil {
		return Unlimited, nil
	}
	return b.spend(ctx, b.Requests, key, 1)
}

// Spend spends an operation's cost from key's cost budget; a cost below 1
// spends nothing and is allowed.
func (b *Budgets) Spend(ctx context.Context, key string, cost int) (Decision, error) {
	if b == nil || cost < 1 {
		return Unlimited, nil
	}
	return b.spend(ctx, b.Cost, key, cost)
}

func (b *Budgets) spend(ctx context.Context, l Limiter, key string, cost int) (Decision, error) {
	if l == nil || (b.Exempt != nil && b.Exempt(ctx)) {
		return Unlimited, nil
	}
	return l.Allow(ctx, key, cost)
}

// Degraded reports whether a budget answers per process because Redis
// failed (see Fallback.Degraded): for /readyz and a gauge.
func (b *Budgets) Degraded() bool {
	if b == nil {
		return false
	}
	for _, l := range []Limiter{b.Requests, b.Cost} {
		if d, ok := l.(interface{ Degraded() bool }); ok && d.Degraded() {
			return true
		}
	}
	return false
}
