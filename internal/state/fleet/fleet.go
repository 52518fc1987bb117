// Package fleet is the Redis connection the replicas of a gateway share:
// one client, the key prefix every shared store uses, and how a failing
// Redis is handled. A replica starts (and serves reads) while Redis is
// down and uses it once it is back; commands to a Redis that just failed
// fail at once for a moment instead of each waiting for its own timeouts;
// every failure is reported to one hook (metrics, a debug line), never
// logged per connection attempt by go-redis itself.
//
// A nil *Conn is a single process: every method is safe to call on it.
package fleet

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// Conn is the shared Redis connection, or nil for a single process.
type Conn struct {
	rdb *redis.Client
	// Prefix starts every key and channel of every shared store.
	Prefix  string
	onError func(op string, err error)
}

// Dial returns a connection to the Redis opts names, or nil when opts is
// nil (no REDIS_URL). It does not wait for Redis to answer. onError hears
// every failed command, by operation (for metrics); log receives go-redis's
// own lines at debug level.
func Dial(opts *redis.Options, prefix string, log *slog.Logger, onError func(op string, err error)) *Conn {
	if opts == nil {
		return nil
	}
	if onError == nil {
		onError = func(string, error) {}
	}
	redis.SetLogger(slogRedisLogger{log})
	rdb := redis.NewClient(opts)
	rdb.AddHook(&redisDown{})
	return &Conn{rdb: rdb, Prefix: prefix, onError: onError}
}

// Client is the Redis client, or nil (not a nil pointer in an interface)
// for a single process.
func (c *Conn) Client() redis.UniversalClient {
	if c == nil {
		return nil
	}
	return c.rdb
}

// KeyPrefix is Prefix, or "" for a single process.
func (c *Conn) KeyPrefix() string {
	if c == nil {
		return ""
	}
	return c.Prefix
}

// Shared reports whether the replicas share state.
func (c *Conn) Shared() bool { return c != nil }

// OnError reports a failed Redis operation; the caller goes on without it.
func (c *Conn) OnError(op string, err error) {
	if c != nil {
		c.onError(op, err)
	}
}

// Ping reports whether Redis answers, for /readyz.
func (c *Conn) Ping(ctx context.Context) error { return c.rdb.Ping(ctx).Err() }

// Close closes the connections.
func (c *Conn) Close() {
	if c != nil {
		_ = c.rdb.Close()
	}
}

// slogRedisLogger sends go-redis's own log lines to slog at debug level: an
// outage is reported once, by /readyz and gateway_redis_errors_total, not
// per connection attempt.
type slogRedisLogger struct{ log *slog.Logger }

func (l slogRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}
