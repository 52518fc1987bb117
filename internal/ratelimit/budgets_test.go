package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

type adminCtx struct{}

func TestBudgets(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	b, err := NewBudgets(Options{
		Requests: Rate{N: 2, Per: time.Minute},
		Cost:     Rate{N: 100, Per: time.Minute},
		MaxKeys:  10,
		Now:      c.now,
		Exempt:   func(ctx context.Context) bool { return ctx.Value(adminCtx{}) != nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, ok := b.Requests.(*Memory); !ok || !b.Enabled() {
		t.Fatalf("without Redis: requests %T, enabled %v; want per-process Memory", b.Requests, b.Enabled())
	}
	b.Request(ctx, "user:3")
	b.Request(ctx, "user:3")
	if d, _ := b.Request(ctx, "user:3"); d.Allowed || d.RetryAfter != 30*time.Second {
		t.Errorf("3rd request of 2/1m: %+v; want refused, retry after 30s", d)
	}
	if d, _ := b.Spend(ctx, "user:3", 80); !d.Allowed || d.Remaining != 20 {
		t.Errorf("cost 80 of 100: %+v; want allowed from the cost budget, apart from requests", d)
	}
	if d, _ := b.Spend(ctx, "user:3", 30); d.Allowed {
		t.Errorf("cost 30 with 20 left: %+v; want refused", d)
	}
	if d, err := b.Spend(ctx, "user:3", 0); d != Unlimited || err != nil {
		t.Errorf("cost 0: %+v %v; want Unlimited, nothing spent", d, err)
	}
	admin := context.WithValue(ctx, adminCtx{}, true)
	for range 5 {
		if d, _ := b.Request(admin, "user:1"); d != Unlimited {
			t.Fatalf("exempt caller: %+v; want Unlimited", d)
		}
	}
	if d, _ := b.Request(ctx, "user:1"); !d.Allowed || d.Remaining != 1 {
		t.Errorf("user:1 not exempt: %+v; want its whole budget (the exempt requests spent nothing)", d)
	}

	var off *Budgets
	if d, err := off.Request(ctx, "k"); d != Unlimited || err != nil || off.Enabled() || off.Degraded() {
		t.Errorf("nil Budgets: %+v %v; want Unlimited, disabled", d, err)
	}
	none, _ := NewBudgets(Options{MaxKeys: 10})
	if d, _ := none.Spend(ctx, "k", 5); none.Enabled() || d != Unlimited {
		t.Errorf("zero rates: enabled %v, %+v; want off", none.Enabled(), d)
	}
	if _, err := NewBudgets(Options{Requests: Rate{N: 1, Per: time.Second}}); err == nil {
		t.Error("no MaxKeys accepted")
	}
}

// With Redis, each budget is a Fallback to Memory, and Budgets reports a
// Redis outage as degraded.
func TestBudgetsWithRedisFallBack(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	var reported errorLog
	b, err := NewBudgets(Options{Requests: Rate{N: 1, Per: time.Minute}, Cost: Rate{N: 10, Per: time.Minute},
		MaxKeys: 10, Redis: rdb, Prefix: "gw:", OnError: reported.record})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Cost.(*Fallback); !ok || b.Degraded() {
		t.Fatalf("cost %T, degraded %v; want a Fallback, not yet degraded", b.Cost, b.Degraded())
	}
	if d, err := b.Request(context.Background(), "k"); err != nil || !d.Allowed {
		t.Fatalf("Redis unreachable: %+v %v; want Memory's answer", d, err)
	}
	if d, _ := b.Request(context.Background(), "k"); d.Allowed {
		t.Errorf("2nd of 1/1m with Redis unreachable: %+v; want refused by Memory", d)
	}
	if !b.Degraded() || reported.len() != 2 {
		t.Errorf("degraded %v, %d reported; want degraded, both failures reported", b.Degraded(), reported.len())
	}
}

func TestKeyTravelsInTheContext(t *testing.T) {
	if _, ok := KeyFrom(context.Background()); ok {
		t.Error("a key in an empty context")
	}
	if k, ok := KeyFrom(WithKey(context.Background(), "user:3")); !ok || k != "user:3" {
		t.Errorf("KeyFrom = %q %v", k, ok)
	}
}
