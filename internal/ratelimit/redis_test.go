package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/testwait"
)

func client(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Two replicas, each with its own client and limiter on one Redis, spend
// from one budget per caller: of requests alternating between them, 8 are
// allowed and the 9th is refused, whichever replica it reaches.
func TestReplicasShareOneBudget(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t)
	r := Rate{N: 8, Per: time.Hour}
	var replicas [2]*Redis
	for i := range replicas {
		var err error
		if replicas[i], err = NewRedis(client(t, url), prefix, "requests", r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 8 {
		if d := allow(t, replicas[i%2], "user:3", 1); !d.Allowed {
			t.Fatalf("request %d on replica %d: %+v; want allowed", i+1, i%2, d)
		}
	}
	for i, rep := range replicas {
		if d := allow(t, rep, "user:3", 1); d.Allowed || d.RetryAfter <= 0 {
			t.Errorf("9th request on replica %d: %+v; want refused with a retry-after", i, d)
		}
	}
	if d := allow(t, replicas[1], "user:1", 1); !d.Allowed {
		t.Errorf("another caller: %+v; want allowed", d)
	}
}

// Every key the limiter writes starts with the fleet's prefix (not with
// redis_rate's own "rate:"), also when that prefix itself starts "rate:"
// and the script is sent again after Redis forgot it (EVALSHA, then EVAL).
// A private server: forgetting scripts must not touch a shared one.
func TestRedisKeysStartWithThePrefix(t *testing.T) {
	rdb := client(t, redistest.Start(t).URL())
	ctx := context.Background()
	for _, prefix := range []string{redistest.Prefix(t), "rate:" + redistest.Prefix(t)} {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		l, err := NewRedis(rdb, prefix, "cost", Rate{N: 10, Per: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		allow(t, l, "user:7", 3)
		want := prefix + "rl:cost:user:7"
		if n, err := rdb.Exists(ctx, want).Result(); err != nil || n != 1 {
			t.Errorf("key %s: exists %d, %v; want the budget there", want, n, err)
		}
		if keys, _ := rdb.Keys(ctx, "rate:"+prefix+"*").Result(); len(keys) != 0 {
			t.Errorf("keys outside the prefix: %v", keys)
		}
		if ttl := rdb.TTL(ctx, want).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("TTL %s; want the key to expire once the budget is whole (≤ 1m)", ttl)
		}
	}
}

// errorLog records what Fallback reports.
type errorLog struct {
	mu   sync.Mutex
	ops  []string
	errs []error
}

func (l *errorLog) record(op string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops, l.errs = append(l.ops, op), append(l.errs, err)
}

func (l *errorLog) len() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.ops) }

// While Redis is down, decisions come from the process's Memory (its own
// limit, neither open nor closed), Degraded says so and every failure is
// reported; once Redis is back, it decides again and Degraded clears.
// Primary and Secondary have different budgets (3 and 2) so that each
// decision shows where it came from.
func TestFallbackAnswersFromMemoryWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	opt, _ := redis.ParseURL(srv.URL())
	opt.MaxRetries, opt.DialTimeout, opt.ReadTimeout = -1, 500*time.Millisecond, 500*time.Millisecond
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	shared, err := NewRedis(rdb, "gw:", "requests", Rate{N: 3, Per: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Unix(0, 0)}
	local, err := NewMemory(Rate{N: 2, Per: time.Hour}, 100, c.now)
	if err != nil {
		t.Fatal(err)
	}
	var reported errorLog
	f := &Fallback{Primary: shared, Secondary: local, OnError: reported.record}

	for i := range 3 {
		if d := allow(t, f, "k", 1); !d.Allowed || d.Remaining != 2-i {
			t.Fatalf("Redis up, request %d: %+v; want Redis's budget of 3", i+1, d)
		}
	}
	if d := allow(t, f, "k", 1); d.Allowed || f.Degraded() || reported.len() != 0 {
		t.Fatalf("4th: %+v, degraded %v, %d errors; want refused by Redis, not degraded", d, f.Degraded(), reported.len())
	}

	srv.Stop()
	if d := allow(t, f, "k", 1); !d.Allowed || d.Remaining != 1 {
		t.Errorf("Redis down: %+v; want allowed by Memory's budget of 2 (1 left)", d)
	}
	if !f.Degraded() || reported.len() != 1 || reported.ops[0] != "ratelimit" || reported.errs[0] == nil {
		t.Errorf("degraded %v, reported %v %v; want degraded and the failure reported as \"ratelimit\"", f.Degraded(), reported.ops, reported.errs)
	}
	allow(t, f, "k", 1)
	if d := allow(t, f, "k", 1); d.Allowed {
		t.Errorf("Redis down, Memory's budget spent: %+v; want refused, not an open door", d)
	}

	srv.Restart()
	// The pool's connections died with the server: the first command after
	// the restart may still fail; the next one reconnects.
	testwait.Until(t, "Redis to decide again", func() bool {
		_, err := f.Allow(context.Background(), "probe", 1)
		return err == nil && !f.Degraded()
	})
	if d := allow(t, f, "k", 1); !d.Allowed || d.Remaining != 2 {
		t.Errorf("Redis back (its data gone): %+v; want Redis's whole budget of 3 again", d)
	}
}

// A caller that gives up does not mark Redis degraded; a cost below 1 is
// the caller's error, not a Redis failure.
func TestFallbackBlamesRedisOnlyForRedisFailures(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	local, _ := NewMemory(Rate{N: 2, Per: time.Hour}, 10, c.now)
	failing := limiterFunc(func(ctx context.Context, _ string, cost int) (Decision, error) {
		if cost < 1 {
			return Decision{}, ErrCost
		}
		return Decision{}, errors.New("redis: connection refused")
	})
	var reported errorLog
	f := &Fallback{Primary: failing, Secondary: local, OnError: reported.record}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d, err := f.Allow(ctx, "k", 1); err != nil || !d.Allowed || f.Degraded() || reported.len() != 0 {
		t.Errorf("cancelled caller: %+v %v, degraded %v, %d reported; want Memory's answer, nothing blamed on Redis", d, err, f.Degraded(), reported.len())
	}
	if _, err := f.Allow(context.Background(), "k", 0); !errors.Is(err, ErrCost) || f.Degraded() {
		t.Errorf("cost 0: %v, degraded %v; want ErrCost, not degraded", err, f.Degraded())
	}
}

type limiterFunc func(ctx context.Context, key string, cost int) (Decision, error)

func (f limiterFunc) Allow(ctx context.Context, key string, cost int) (Decision, error) {
	return f(ctx, key, cost)
}
