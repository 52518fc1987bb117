package fleet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// After one failure to reach Redis, commands fail at once (no dial, no
// timeout) until the pause ends, then Redis is tried again.
func TestAnUnreachableRedisIsNotAskedAgainAtOnce(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	hook := &redisDown{}
	rdb.AddHook(hook)
	ctx := context.Background()
	if err := rdb.Get(ctx, "k").Err(); err == nil {
		t.Fatal("first command to an unreachable Redis succeeded")
	}
	if err := rdb.Get(ctx, "k").Err(); !errors.Is(err, errRedisDown) {
		t.Errorf("second command: %v; want errRedisDown without trying", err)
	}
	hook.until.Store(time.Now().Add(-time.Millisecond).UnixNano()) // the pause is over
	if err := rdb.Get(ctx, "k").Err(); err == nil || !hook.down() {
		t.Errorf("after the pause: %v, down %v; want Redis tried again and found down again", err, hook.down())
	}
	// A missing key is an answer, not an outage.
	hook.until.Store(0)
	hook.observe(redis.Nil)
	if hook.down() {
		t.Error("a missing key marked Redis down")
	}
}
