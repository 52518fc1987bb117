package eventfeed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Redis is the Bus of a fleet: events as JSON on one pub/sub channel that
// every replica listens to, and the poller's lease, so that one replica
// polls the upstream for the whole fleet.
type Redis struct {
	rdb     redis.UniversalClient
	channel string
	lease   string
	token   string
	onError func(op string, err error)
}

// NewRedis returns the bus under keys and channels starting with prefix.
func NewRedis(rdb redis.UniversalClient, prefix string, onError func(op string, err error)) *Redis {
	var b [8]byte
	_, _ = rand.Read(b[:])
	if onError == nil {
		onError = func(string, error) {}
	}
	return &Redis{rdb: rdb, channel: prefix + "events-added", lease: prefix + "events-poller",
		token: hex.EncodeToString(b[:]), onError: onError}
}

// Publish implements Bus.
func (r *Redis) Publish(ctx context.Context, e eventapi.Event) error {
	b, _ := json.Marshal(e)
	if err := r.rdb.Publish(ctx, r.channel, b).Err(); err != nil {
		return fmt.Errorf("publish added event: %w", err)
	}
	return nil
}

// Listen implements Bus. go-redis resubscribes after a lost connection;
// events published meanwhile are missed by this replica's subscribers
// (the poller finds those added through the upstream).
func (r *Redis) Listen(ctx context.Context, deliver func(eventapi.Event)) error {
	sub := r.rdb.Subscribe(ctx, r.channel)
	if _, err := sub.Receive(ctx); err != nil {
		r.onError("subscribe", err) // go-redis keeps trying in the background
	}
	ch := sub.Channel()
	go func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				var e eventapi.Event
				if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
					r.onError("decode", err)
					continue
				}
				deliver(e)
			}
		}
	}()
	return nil
}

// renewScript extends the lease if this replica holds it.
var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0`)

// Lease implements Leaser: the poller's lease, taken or renewed for ttl.
func (r *Redis) Lease(ctx context.Context, ttl time.Duration) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, r.lease, r.token, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("poller lease: %w", err)
	}
	if ok {
		return true, nil
	}
	n, err := renewScript.Run(ctx, r.rdb, []string{r.lease}, r.token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("poller lease: %w", err)
	}
	return n == 1, nil
}
