package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/entitycache"
	"github.com/eventms/gateway/internal/eventfeed"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/idempotency"
	"github.com/eventms/gateway/internal/metrics"
)

// fleet is the state a gateway shares with its other replicas through
// Redis, or nothing (a nil rdb) for a single process.
type fleet struct {
	rdb     *redis.Client
	prefix  string
	onError func(op string, err error)
	stop    context.CancelFunc
	done    chan struct{}
}

// newFleet connects to Redis when cfg names one. It does not wait for
// Redis to answer: a replica starts (and serves reads) while Redis is
// down, and uses it once it is back.
func newFleet(cfg config.Redis, m *metrics.Metrics, log *slog.Logger) *fleet {
	f := &fleet{onError: func(string, error) {}}
	if cfg.Options == nil {
		return f
	}
	// go-redis logs dial failures itself; an outage is reported once, by
	// /readyz and gateway_redis_errors_total, not per connection attempt.
	redis.SetLogger(slogRedisLogger{log})
	f.rdb = redis.NewClient(cfg.Options)
	f.rdb.AddHook(&redisDown{})
	f.prefix = cfg.KeyPrefix
	m.EnableRedis()
	f.onError = func(op string, err error) {
		m.RedisError(op)
		log.Debug("redis failed; going on without it", "op", op, "err", err)
	}
	return f
}

// client is the Redis client as an interface, nil (not a nil pointer in
// an interface) without Redis.
func (f *fleet) client() redis.UniversalClient {
	if f.rdb == nil {
		return nil
	}
	return f.rdb
}

// shared reports whether the replicas share state.
func (f *fleet) shared() bool { return f.rdb != nil }

// idempotencyStore is where keys are claimed and outcomes kept.
func (f *fleet) idempotencyStore(cfg config.Idempotency, now func() time.Time) (idempotency.Store[eventsvc.AddedEvent], error) {
	if f.shared() {
		return idempotency.NewRedis[eventsvc.AddedEvent](f.rdb, f.prefix), nil
	}
	return idempotency.NewMemory[eventsvc.AddedEvent](cfg.MaxKeys, now)
}

// breakerState is the circuit's shared state, or nil for a local circuit.
func (f *fleet) breakerState(probeLease time.Duration) breaker.Shared {
	if !f.shared() {
		return nil
	}
	return breaker.NewRedis(f.rdb, f.prefix, probeLease)
}

// cacheStore puts the shared level behind local, and starts listening for
// the other replicas' invalidations.
func (f *fleet) cacheStore(local *entitycache.Memory, keep time.Duration, forget func(keys []string)) entitycache.Store {
	if !f.shared() {
		return local
	}
	shared := entitycache.NewRedis(f.rdb, f.prefix, keep, f.onError)
	ctx, stop := context.WithCancel(context.Background())
	f.stop, f.done = stop, make(chan struct{})
	go func() {
		defer close(f.done)
		shared.Subscribe(ctx, func(keys []string) {
			forget(keys)
			// A fill of this replica's that finished just before it heard
			// may have put the old answer back in the shared level.
			shared.Forget(ctx, keys...)
		})
	}()
	return &entitycache.Tiered{Local: local, Shared: shared}
}

// feedBus carries added events between replicas; with Redis it also
// grants the one poller of the fleet its lease (nil without Redis).
func (f *fleet) feedBus() (eventfeed.Bus, eventfeed.Leaser) {
	if !f.shared() {
		return &eventfeed.Memory{}, nil
	}
	b := eventfeed.NewRedis(f.rdb, f.prefix, f.onError)
	return b, b
}

// ping reports whether Redis answers, for /readyz.
func (f *fleet) ping(ctx context.Context) error { return f.rdb.Ping(ctx).Err() }

// close ends the subscription and the connections.
func (f *fleet) close() {
	if f.stop != nil {
		f.stop()
		<-f.done
	}
	if f.rdb != nil {
		_ = f.rdb.Close()
	}
}

// slogRedisLogger sends go-redis's own log lines to slog at debug level.
type slogRedisLogger struct{ log *slog.Logger }

func (l slogRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}
