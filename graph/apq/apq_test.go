package apq

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
)

func TestAHashRegisteredOnOneReplicaIsKnownOnAll(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	a := New(10, rdb, prefix, time.Hour, nil)
	b := New(10, rdb, prefix, time.Hour, nil)
	ctx := context.Background()
	if _, ok := b.Get(ctx, "h1"); ok {
		t.Fatal("unknown hash found")
	}
	a.Add(ctx, "h1", "{ users { id } }")
	if doc, ok := b.Get(ctx, "h1"); !ok || doc != "{ users { id } }" {
		t.Errorf("on the other replica: %q %v", doc, ok)
	}
	alone := New(10, nil, "", 0, nil)
	if _, ok := alone.Get(ctx, "h1"); ok {
		t.Error("a replica without Redis saw another's document")
	}
}

func TestAFailingRedisLeavesTheLocalLevel(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer rdb.Close()
	var errs int
	c := New(10, rdb, "x:", time.Hour, func(string, error) { errs++ })
	ctx := context.Background()
	c.Add(ctx, "h", "{ events { id } }")
	if doc, ok := c.Get(ctx, "h"); !ok || doc != "{ events { id } }" || errs == 0 {
		t.Errorf("%q %v after %d errors; want the local document and the failure reported", doc, ok, errs)
	}
}
