package apq

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// redisLevel keeps documents in Redis within a byte budget for the whole
// fleet. Redis has no memory limit per key prefix (maxmemory is the whole
// server's, shared with the fleet's other state), so the budget is kept
// beside the documents, under the same prefix:
//
//	<prefix>apq:<sha256>     the document, expiring TTL after its last registration
//	<prefix>apq-index        sorted set: hash → its document's expiry (Unix ms)
//	<prefix>apq-sizes        hash: hash → the bytes it is counted for
//	<prefix>apq-bytes        the sum of apq-sizes
//
// One Lua script stores a document and keeps the three in step, atomically
// across the fleet: it forgets the documents whose expiry has passed,
// counts the new one as Redis measures it (MEMORY USAGE, so the allocator's
// rounding is in), and deletes the documents that expire soonest (those
// registered longest ago) until the total is within the budget. Evicting,
// rather than refusing new documents once full, keeps the fleet's store
// serving what clients register now; either way the memory is bounded.
// The index, the sizes and the sum never expire: each store first forgets
// what has expired since the last.
// The script deletes evicted and expired documents by a key it builds, not
// one it was given, which one Redis server (fleet.Dial's) allows and Redis
// Cluster would not.
type redisLevel struct {
	rdb    redis.UniversalClient
	prefix string // of the documents' keys
	keys   []string
	s      Settings
}

// indexEntryBytes is what a document costs Redis beyond what MEMORY USAGE
// reports for its key: its entries in the index and the sizes (about 260
// bytes: the hash twice, a score, a number, the structures' nodes), its
// expiry, and the growth of the hash tables. Measured with INFO's
// used_memory for documents of 1 to 20 KB (200 to 340 bytes more than the
// 260), with room to spare: the budget errs on the side of counting more.
const indexEntryBytes = 640

func newRedisLevel(rdb redis.UniversalClient, prefix string, s Settings) *redisLevel {
	return &redisLevel{rdb: rdb, prefix: prefix + "apq:", s: s,
		keys: []string{prefix + "apq-index", prefix + "apq-sizes", prefix + "apq-bytes"}}
}

func (r *redisLevel) get(ctx context.Context, hash string) (string, error) {
	return r.rdb.Get(ctx, r.prefix+hash).Result()
}

// storeScript: KEYS index, sizes, bytes, the document's key; ARGV now (ms),
// expiry (ms), budget, index entry bytes, document, hash, the documents'
// key prefix. Returns the bytes in use after, or -1 if the document alone
// is over the budget (and was not kept).
var storeScript = redis.NewScript(`
local now, expiry, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local used = tonumber(redis.call("GET", KEYS[3]) or "0")
local function forget(h)
  used = used - tonumber(redis.call("HGET", KEYS[2], h) or "0")
  redis.call("HDEL", KEYS[2], h)
  redis.call("ZREM", KEYS[1], h)
end
for _, h in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now)) do
  forget(h)
  redis.call("DEL", ARGV[7] .. h)
end
forget(ARGV[6])
redis.call("SET", KEYS[4], ARGV[5], "PXAT", expiry)
local size = (redis.call("MEMORY", "USAGE", KEYS[4]) or string.len(ARGV[5])) + tonumber(ARGV[4])
if size > budget then
  redis.call("DEL", KEYS[4])
  redis.call("SET", KEYS[3], used)
  return -1
end
while used + size > budget do
  local oldest = redis.call("ZRANGE", KEYS[1], 0, 0)
  if #oldest == 0 then break end
  forget(oldest[1])
  redis.call("DEL", ARGV[7] .. oldest[1])
end
redis.call("ZADD", KEYS[1], expiry, ARGV[6])
redis.call("HSET", KEYS[2], ARGV[6], size)
used = used + size
redis.call("SET", KEYS[3], used)
return used`)

// errOverBudget: one document is larger than the whole budget.
var errOverBudget = errors.New("document larger than APQ_REDIS_MAX_BYTES")

func (r *redisLevel) put(ctx context.Context, hash, doc string) error {
	now := r.s.Now()
	keys := append(r.keys[:len(r.keys):len(r.keys)], r.prefix+hash)
	used, err := storeScript.Run(ctx, r.rdb, keys, now.UnixMilli(), now.Add(r.s.TTL).UnixMilli(),
		r.s.RedisMaxBytes, indexEntryBytes, doc, hash, r.prefix).Int64()
	if err != nil {
		return fmt.Errorf("store apq document in redis: %w", err)
	}
	if used < 0 {
		return fmt.Errorf("store apq document in redis: %w", errOverBudget)
	}
	return nil
}

func (r *redisLevel) used(ctx context.Context) (int64, error) {
	n, err := r.rdb.Get(ctx, r.keys[2]).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("apq bytes in redis: %w", err)
	}
	return n, nil
}
