package breaker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Shared state in Redis: a hash with the state, its generation,
// the end of the open period and its length; a sorted set of the failure
// times in the window; and a probe lease. Each step is one Lua script, so
// it is atomic across the fleet (consistency: linearizable through the one
// Redis; replicas agree on the state as soon as a step has run).
type Redis struct {
	rdb        redis.UniversalClient
	keys       []string // state, failures, probe
	probeLease time.Duration
}

// NewRedis returns the shared state under keys starting with prefix.
// probeLease bounds how long a probe holds the fleet's one probe slot if
// its replica dies mid-call; make it a little over the upstream timeout.
func NewRedis(rdb redis.UniversalClient, prefix string, probeLease time.Duration) *Redis {
	p := prefix + "breaker:"
	return &Redis{rdb: rdb, keys: []string{p + "state", p + "failures", p + "probe"}, probeLease: probeLease}
}

// admitScript: ARGV now(ms), probe lease(ms), token. Returns
// {allowed, state, generation, retry(ms), probe}.
var admitScript = redis.NewScript(`
local st = redis.call("HMGET", KEYS[1], "state", "gen", "until")
local state, gen, till = tonumber(st[1]) or 0, tonumber(st[2]) or 0, tonumber(st[3]) or 0
local now = tonumber(ARGV[1])
if state == 0 then return {1, 0, gen, 0, 0} end
if now < till then return {0, 1, gen, till - now, 0} end
if redis.call("SET", KEYS[3], ARGV[3], "NX", "PX", ARGV[2]) then return {1, 2, gen, 0, 1} end
return {0, 2, gen, 1000, 0}`)

// recordScript: ARGV now(ms), outcome (0 success, 1 failure, 2 ignored),
// probe (0/1), generation, token, threshold, window(ms), reset(ms),
// max reset(ms), extra share. Returns {from, to}.
var recordScript = redis.NewScript(`
local st = redis.call("HMGET", KEYS[1], "state", "gen", "until", "for")
local state, gen, till, openFor = tonumber(st[1]) or 0, tonumber(st[2]) or 0, tonumber(st[3]) or 0, tonumber(st[4]) or 0
local now, outcome, probe = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local shown = state
if state == 1 and now >= till then shown = 2 end
if tonumber(ARGV[4]) ~= gen then return {shown, shown} end
if probe == 1 then
  if redis.call("GET", KEYS[3]) == ARGV[5] then redis.call("DEL", KEYS[3]) end
  if outcome == 0 then
    redis.call("HSET", KEYS[1], "state", 0, "gen", gen + 1, "for", 0, "until", 0)
    redis.call("DEL", KEYS[2])
    return {2, 0}
  elseif outcome == 1 then
    openFor = math.min(2 * openFor, tonumber(ARGV[9]))
    redis.call("HSET", KEYS[1], "state", 1, "gen", gen + 1, "for", openFor, "until", now + openFor + math.floor(tonumber(ARGV[10]) * openFor))
    return {2, 1}
  end
  return {2, 2}
end
if outcome ~= 1 or state ~= 0 then return {shown, shown} end
local window = tonumber(ARGV[7])
redis.call("ZADD", KEYS[2], now, ARGV[5])
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now - window)
redis.call("PEXPIRE", KEYS[2], window)
if redis.call("ZCARD", KEYS[2]) >= tonumber(ARGV[6]) then
  openFor = tonumber(ARGV[8])
  redis.call("HSET", KEYS[1], "state", 1, "gen", gen + 1, "for", openFor, "until", now + openFor + math.floor(tonumber(ARGV[10]) * openFor))
  redis.call("DEL", KEYS[2])
  return {0, 1}
end
return {0, 0}`)

// Admit implements Shared.
func (r *Redis) Admit(ctx context.Context, now time.Time, _ Settings) (Decision, error) {
	token := newToken()
	res, err := admitScript.Run(ctx, r.rdb, r.keys, now.UnixMilli(), r.probeLease.Milliseconds(), token).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("breaker state in redis: %w", err)
	}
	return Decision{
		Allowed: res[0] == 1, State: State(res[1]), Generation: res[2],
		RetryAfter: time.Duration(res[3]) * time.Millisecond, Probe: res[4] == 1, Token: token,
	}, nil
}

// Record implements Shared.
func (r *Redis) Record(ctx context.Context, now time.Time, d Decision, o Outcome, s Settings) (State, State, error) {
	probe := 0
	if d.Probe {
		probe = 1
	}
	res, err := recordScript.Run(ctx, r.rdb, r.keys, now.UnixMilli(), int(o), probe, d.Generation, d.Token,
		s.Threshold, s.Window.Milliseconds(), s.ResetTimeout.Milliseconds(), s.MaxResetTimeout.Milliseconds(), s.Extra).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("breaker state in redis: %w", err)
	}
	return State(res[0]), State(res[1]), nil
}

// Status implements Shared.
func (r *Redis) Status(ctx context.Context, now time.Time) (State, time.Duration, error) {
	vals, err := r.rdb.HMGet(ctx, r.keys[0], "state", "until").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("breaker state in redis: %w", err)
	}
	state, till := int64Of(vals[0]), int64Of(vals[1])
	if state != int64(Open) {
		return Closed, 0, nil
	}
	if left := time.Duration(till-now.UnixMilli()) * time.Millisecond; left > 0 {
		return Open, left, nil
	}
	return HalfOpen, 0, nil
}

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// int64Of reads a hash field HMGET returned (a string, or nil when unset).
func int64Of(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
