package entitycache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Redis is the shared, second level of a fleet's entity cache: entries as
// JSON with the upstream's age, kept for the longest age an entry is used
// (stale-if-error). Deletions are published, so that every replica forgets
// the same entries from its own memory (Subscribe). A Redis that fails
// reads as a miss and writes nothing: the cache then works per replica.
type Redis struct {
	rdb     redis.UniversalClient
	prefix  string
	channel string
	keep    time.Duration
	onError func(op string, err error)

	subscribed     chan struct{} // closed once Subscribe listens
	subscribedOnce sync.Once
}

// NewRedis returns the shared level under keys starting with prefix,
// keeping entries for keep. onError, if set, hears every Redis failure
// (metrics); the cache goes on without the shared level.
func NewRedis(rdb redis.UniversalClient, prefix string, keep time.Duration, onError func(op string, err error)) *Redis {
	if onError == nil {
		onError = func(string, error) {}
	}
	return &Redis{rdb: rdb, prefix: prefix + "cache:", channel: prefix + "cache-invalidate", keep: keep, onError: onError,
		subscribed: make(chan struct{})}
}

// wire is an Entry as Redis holds it.
type wire struct {
	NotFound bool            `json:"nf,omitempty"`
	Fetched  int64           `json:"at"`
	Value    json.RawMessage `json:"v,omitempty"`
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (Entry, bool) {
	b, err := r.rdb.Get(ctx, r.prefix+key).Bytes()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			r.onError("get", err)
		}
		return Entry{}, false
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		r.onError("decode", err)
		return Entry{}, false
	}
	e := Entry{NotFound: w.NotFound, Fetched: time.UnixMilli(w.Fetched)}
	if !w.NotFound {
		if e.Value, err = decodeValue(key, w.Value); err != nil {
			r.onError("decode", err)
			return Entry{}, false
		}
	}
	return e, true
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key string, e Entry) {
	w := wire{NotFound: e.NotFound, Fetched: e.Fetched.UnixMilli()}
	if !e.NotFound {
		v, err := json.Marshal(e.Value)
		if err != nil {
			r.onError("encode", err)
			return
		}
		w.Value = v
	}
	b, _ := json.Marshal(w)
	if err := r.rdb.Set(ctx, r.prefix+key, b, r.keep).Err(); err != nil {
		r.onError("set", err)
	}
}

// Delete implements Store: it deletes the keys, and their fill leases,
// and tells every replica to forget them, before it returns. A fill that
// holds a lease began before the deletion (the write that deletes): the
// fills after it must not wait for its answer, which they could not use.
func (r *Redis) Delete(ctx context.Context, keys ...string) {
	full := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		full = append(full, r.prefix+k, r.leaseKey(k))
	}
	if err := r.rdb.Del(ctx, full...).Err(); err != nil {
		r.onError("delete", err)
	}
	if err := r.rdb.Publish(ctx, r.channel, strings.Join(keys, "\n")).Err(); err != nil {
		r.onError("publish", err)
	}
}

// Forget deletes keys from the shared level without telling the other
// replicas: a replica that hears of another's write clears what its own
// fill may have stored there just before it heard.
func (r *Redis) Forget(ctx context.Context, keys ...string) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + k
	}
	if err := r.rdb.Del(ctx, full...).Err(); err != nil {
		r.onError("delete", err)
	}
}

// Lease takes the fill of key for ttl across the fleet, so that one
// replica fetches what several want; false if another holds it. A failing
// Redis grants the lease (fetching twice beats not fetching).
func (r *Redis) Lease(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool) {
	lk := r.leaseKey(key)
	ok, err := r.rdb.SetNX(ctx, lk, 1, ttl).Result()
	if err != nil {
		r.onError("lease", err)
		return func() {}, true
	}
	if !ok {
		return nil, false
	}
	return func() { _ = r.rdb.Del(context.WithoutCancel(ctx), lk).Err() }, true
}

func (r *Redis) leaseKey(key string) string { return r.prefix + "fill:" + key }

// Subscribe calls forget with the keys every replica's writes delete,
// until ctx ends. go-redis resubscribes after a lost connection by itself;
// what was deleted meanwhile is forgotten within the fresh age anyway.
func (r *Redis) Subscribe(ctx context.Context, forget func(keys []string)) {
	sub := r.rdb.Subscribe(ctx, r.channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		r.onError("subscribe", err)
	}
	r.subscribedOnce.Do(func() { close(r.subscribed) })
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			forget(strings.Split(m.Payload, "\n"))
		}
	}
}

// Subscribed is closed once Subscribe has asked Redis for the deletions
// (or failed to): deletions published after that reach this replica.
func (r *Redis) Subscribed() <-chan struct{} { return r.subscribed }

// decodeValue decodes a value by the kind its key names.
func decodeValue(key string, raw json.RawMessage) (any, error) {
	switch {
	case key == keyUsers:
		var us []eventapi.User
		err := json.Unmarshal(raw, &us)
		return us, err
	case key == keyEvents:
		var es []eventapi.Event
		err := json.Unmarshal(raw, &es)
		return es, err
	case strings.HasPrefix(key, "user:"):
		u := &eventapi.User{}
		err := json.Unmarshal(raw, u)
		return u, err
	case strings.HasPrefix(key, "event:"):
		e := &eventapi.Event{}
		err := json.Unmarshal(raw, e)
		return e, err
	}
	return nil, fmt.Errorf("unknown cache key %q", key)
}
