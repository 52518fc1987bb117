// Package apq keeps the documents of automatic persisted queries: a
// replica's own LRU in front and, for a fleet, Redis behind, so that a hash
// registered on one replica is known on all. Both are bounded in bytes, and
// only documents that parsed and validated reach either (see Extension).
package apq

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/graph/doccache"
)

// Defaults for Settings' zero fields.
const (
	// DefaultMaxBytes bounds a replica's documents: at the 2 to 10 KB of
	// text an operation usually takes, thousands of them.
	DefaultMaxBytes = 16 << 20
	// DefaultMaxDocumentBytes is the longest text kept. An operation within
	// the gateway's parser limit of 5000 tokens, written as people and code
	// generators write, takes at most a few tens of KB (300 aliased fields
	// with arguments: 11 KB; GraphiQL's introspection query: 1.7 KB); a
	// longer one is padded with long literals, whitespace or comments,
	// which is what an attack on the cache looks like. Longer documents
	// still run; a client sends them whole each time.
	DefaultMaxDocumentBytes = 64 << 10
	// DefaultTTL is how long Redis keeps a document after it was last
	// registered.
	DefaultTTL = 24 * time.Hour
	// DefaultRedisMaxBytes bounds the fleet's documents in Redis: 512
	// documents of DefaultMaxDocumentBytes, thousands of usual ones.
	DefaultRedisMaxBytes = 32 << 20
)

// Settings bound a Store; zero fields take the defaults above.
type Settings struct {
	// MaxBytes bounds the documents this replica holds, each counted as its
	// text, its hash and the LRU's own entry (doccache.TextSize).
	MaxBytes int64
	// MaxEntries bounds their number as well; zero is no bound but bytes.
	MaxEntries int
	// MaxDocumentBytes is the longest text kept, here and in Redis; a
	// longer document runs but is not persisted. At most MaxBytes and
	// RedisMaxBytes.
	MaxDocumentBytes int
	// TTL is how long Redis keeps a document after its last registration.
	TTL time.Duration
	// RedisMaxBytes bounds the fleet's documents in Redis, each counted as
	// Redis measures its key (MEMORY USAGE) plus its entry in the index
	// the budget keeps. Past it, the documents registered longest ago make
	// room.
	RedisMaxBytes int64
	// Now is the clock of the documents' expiry in Redis [time.Now].
	Now func() time.Time
}

func (s Settings) withDefaults() Settings {
	s.MaxBytes = or(s.MaxBytes, DefaultMaxBytes)
	s.MaxDocumentBytes = or(s.MaxDocumentBytes, DefaultMaxDocumentBytes)
	s.TTL = or(s.TTL, DefaultTTL)
	s.RedisMaxBytes = or(s.RedisMaxBytes, DefaultRedisMaxBytes)
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

func or[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Store holds the documents of registered hashes. Documents reach it only
// through Extension, after they parsed and validated; a hash is the
// document's SHA-256 in lowercase hex, which gqlgen's APQ extension checks
// before registering.
type Store struct {
	local   *doccache.LRU[string]
	redis   *redisLevel // nil: this replica only
	maxDoc  int
	onError func(op string, err error)
}

// New returns an empty Store within s. With rdb set, documents are also
// kept in Redis under prefix; a failing Redis leaves the local level
// working (a client whose hash is unknown just sends the document again, as
// the APQ protocol expects) and is reported to onError.
func New(s Settings, rdb redis.UniversalClient, prefix string, onError func(op string, err error)) *Store {
	s = s.withDefaults()
	if onError == nil {
		onError = func(string, error) {}
	}
	st := &Store{
		maxDoc:  s.MaxDocumentBytes,
		onError: onError,
		// put and Get leave out documents over MaxDocumentBytes.
		local: doccache.NewLRU(doccache.Limits{MaxBytes: s.MaxBytes, MaxEntries: s.MaxEntries}, doccache.TextSize),
	}
	if rdb != nil {
		st.redis = newRedisLevel(rdb, prefix, s)
	}
	return st
}

// Get returns hash's document from this replica or, failing that, from
// Redis (keeping it here too).
func (s *Store) Get(ctx context.Context, hash string) (string, bool) {
	if !isSHA256(hash) {
		return "", false // never registered: gqlgen registers only real hashes
	}
	if doc, ok := s.local.Get(hash); ok || s.redis == nil {
		return doc, ok
	}
	doc, err := s.redis.get(ctx, hash)
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			s.onError("apq get", err)
		}
		return "", false
	}
	if len(doc) <= s.maxDoc {
		s.local.Add(hash, doc)
	}
	return doc, true
}

// put keeps doc, a valid document whose SHA-256 is hash, here and in Redis.
func (s *Store) put(ctx context.Context, hash, doc string) {
	if len(doc) > s.maxDoc {
		return
	}
	s.local.Add(hash, doc)
	if s.redis == nil {
		return
	}
	if err := s.redis.put(ctx, hash, doc); err != nil {
		s.onError("apq set", err)
	}
}

// Bytes is what this replica's documents take (doccache.TextSize each).
func (s *Store) Bytes() int64 { return s.local.Bytes() }

// RedisBytes is what the fleet's documents take in Redis, as the budget
// counts them; zero without Redis.
func (s *Store) RedisBytes(ctx context.Context) (int64, error) {
	if s.redis == nil {
		return 0, nil
	}
	return s.redis.used(ctx)
}

func isSHA256(h string) bool {
	if len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}
