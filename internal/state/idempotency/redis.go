package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every replica that uses the same Redis and
// prefix. A key is one Redis string: "p:<token>" while claimed (with the
// lease as its expiry), "v:<JSON>" once it holds an outcome (with the TTL).
// SET NX makes the claim atomic across the fleet.
type Redis[V any] struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedis returns a Store in rdb under keys starting with prefix. V must
// round-trip through encoding/json.
func NewRedis[V any](rdb redis.UniversalClient, prefix string) *Redis[V] {
	return &Redis[V]{rdb: rdb, prefix: prefix + "idem:"}
}

const (
	claimMark   = "p:"
	outcomeMark = "v:"
)

// Get implements Store.
func (r *Redis[V]) Get(ctx context.Context, key string) (V, bool, error) {
	var v V
	s, err := r.rdb.Get(ctx, r.prefix+key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return v, false, nil
	case err != nil:
		return v, false, fmt.Errorf("redis get: %w", err)
	case !strings.HasPrefix(s, outcomeMark):
		return v, false, nil
	}
	if err := json.Unmarshal([]byte(s[len(outcomeMark):]), &v); err != nil {
		return v, false, fmt.Errorf("decode remembered outcome: %w", err)
	}
	return v, true, nil
}

// Claim implements Store.
func (r *Redis[V]) Claim(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, r.prefix+key, claimMark+token, lease).Result()
	if err != nil {
		return false, fmt.Errorf("redis claim: %w", err)
	}
	return ok, nil
}

// Put implements Store.
func (r *Redis[V]) Put(ctx context.Context, key string, v V, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode outcome: %w", err)
	}
	if err := r.rdb.Set(ctx, r.prefix+key, outcomeMark+string(b), ttl).Err(); err != nil {
		return fmt.Errorf("redis put: %w", err)
	}
	return nil
}

// releaseScript deletes a claim only if it is still the caller's.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// Release implements Store.
func (r *Redis[V]) Release(ctx context.Context, key, token string) error {
	if err := releaseScript.Run(ctx, r.rdb, []string{r.prefix + key}, claimMark+token).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redis release: %w", err)
	}
	return nil
}
