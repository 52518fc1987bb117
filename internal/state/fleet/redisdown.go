package fleet

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// errRedisDown answers commands while Redis is known to be down.
var errRedisDown = errors.New("redis is down (recently unreachable); not retried until the pause ends")

// downPause is how long a Redis found unreachable is not asked again.
const downPause = time.Second

// redisDown is a go-redis hook that stops asking a Redis that just failed
// to answer: for downPause every command fails at once instead of each
// waiting for its own dial and read timeouts, so that an outage costs a
// request microseconds, not seconds. The first command after the pause
// tries again, so a Redis that is back is used again without a restart.
type redisDown struct {
	until atomic.Int64 // unix nanoseconds
}

var _ redis.Hook = (*redisDown)(nil)

func (h *redisDown) down() bool { return time.Now().UnixNano() < h.until.Load() }

// observe marks Redis down on a failure of the connection (not on a
// Redis error reply, nor on a missing key).
func (h *redisDown) observe(err error) {
	var re redis.Error
	var ne net.Error
	if err == nil || errors.Is(err, redis.Nil) || (errors.As(err, &re) && !errors.As(err, &ne)) ||
		errors.Is(err, context.Canceled) {
		return
	}
	h.until.Store(time.Now().Add(downPause).UnixNano())
}

func (h *redisDown) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h.down() {
			return nil, errRedisDown
		}
		c, err := next(ctx, network, addr)
		h.observe(err)
		return c, err
	}
}

func (h *redisDown) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.down() {
			cmd.SetErr(errRedisDown)
			return errRedisDown
		}
		err := next(ctx, cmd)
		h.observe(err)
		return err
	}
}

func (h *redisDown) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.down() {
			for _, c := range cmds {
				c.SetErr(errRedisDown)
			}
			return errRedisDown
		}
		err := next(ctx, cmds)
		h.observe(err)
		return err
	}
}
