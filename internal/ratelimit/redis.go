package ratelimit

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis keeps budgets for a fleet: every replica using the same Redis,
// prefix and name spends from one budget per key. It is the GCRA (generic
// cell rate algorithm) of github.com/go-redis/redis_rate: one Lua script
// per decision, one Redis string per key holding its theoretical arrival
// time, which expires once the budget is whole again. Time is Redis's own
// (TIME inside the script), so the replicas' clocks need not agree.
//
// Its budgets behave as Memory's: a burst of N, one unit back every Per/N.
type Redis struct {
	r      Rate
	limit  redis_rate.Limit
	prefix string
	rl     *redis_rate.Limiter
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Redis spending from budgets of r, under keys
// prefix + "rl:" + name + ":" + key; prefix is the fleet's
// (REDIS_KEY_PREFIX), and name keeps apart budgets of the same callers
// (requests, cost). The client's timeouts bound every decision.
func NewRedis(rdb redis.UniversalClient, prefix, name string, r Rate) (*Redis, error) {
	if r.N < 1 || r.Per <= 0 {
		return nil, fmt.Errorf("ratelimit: redis limiter %q of rate %q: want N ≥ 1 per a positive period", name, r)
	}
	return &Redis{
		r:      r,
		limit:  redis_rate.Limit{Rate: r.N, Burst: r.N, Period: r.Per},
		prefix: prefix + "rl:" + name + ":",
		rl:     redis_rate.NewLimiter(ownKeys{rdb}),
	}, nil
}

// Allow implements Limiter.
func (l *Redis) Allow(ctx context.Context, key string, cost int) (Decision, error) {
	if d, decided, err := precheck(l.r, cost); decided {
		return d, err
	}
	res, err := l.rl.AllowN(ctx, l.prefix+key, l.limit, cost)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	d := Decision{Allowed: res.Allowed > 0, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !d.Allowed {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}

// libraryPrefix is what redis_rate puts before every key it is given.
const libraryPrefix = "rate:"

// ownKeys hands redis_rate's scripts the key as we wrote it, without the
// library's own "rate:" in front: every key of the fleet starts with
// REDIS_KEY_PREFIX (docs/fleet.md), so that an ACL key pattern or a SCAN
// by prefix covers the limiter's keys too. The key is the script's only
// KEYS entry; the test TestRedisKeysStartWithThePrefix checks the name.
type ownKeys struct{ redis.UniversalClient }

// Eval, EvalSha, EvalRO, EvalShaRO and Del are the commands redis_rate
// sends with keys.

func (c ownKeys) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.Eval(ctx, script, trimLibraryPrefix(keys), args...)
}

func (c ownKeys) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalSha(ctx, sha1, trimLibraryPrefix(keys), args...)
}

func (c ownKeys) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalRO(ctx, script, trimLibraryPrefix(keys), args...)
}

func (c ownKeys) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalShaRO(ctx, sha1, trimLibraryPrefix(keys), args...)
}

func (c ownKeys) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return c.UniversalClient.Del(ctx, trimLibraryPrefix(keys)...)
}

// trimLibraryPrefix returns keys without the library's prefix, in a new
// slice: go-redis retries a script by EVAL with the slice it gave EVALSHA,
// and a key trimmed twice would lose a prefix of ours that starts "rate:".
func trimLibraryPrefix(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, libraryPrefix)
	}
	return out
}
