package apq_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/redistest"
)

// heapInUse is the heap's spans in use once the garbage is collected (twice:
// sync.Pools keep what they held through the first).
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// valid is the i-th of distinct valid queries carrying a literal of n bytes;
// @skip keeps the upstream out of it.
func valid(i, n int) string {
	return fmt.Sprintf(`{ user(id: "%d-%s") @skip(if: true) { id } __typename }`, i, strings.Repeat("x", n))
}

// TestHostileDocumentsLeaveMemoryFlat sends the audit's attack through a
// gqlgen server over the real schema (APQ registrations of documents that
// do not parse, distinct valid queries carrying a huge literal, garbage
// registrations meant for Redis), then valid documents enough to fill every
// cache, and checks that the caches stay within their budgets, that nothing
// invalid is kept, locally or in Redis, and that the heap grows by less than
// the budgets.
func TestHostileDocumentsLeaveMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("sends about 400 MB of documents")
	}
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	var caches config.DocumentCaches
	d := newDoor(t, rdb, prefix, func(c *config.DocumentCaches) {
		c.QueryBytes /= attackScale
		c.APQBytes /= attackScale
		c.APQRedisBytes = 8 << 20 / attackScale // the shared test Redis need not hold the default 32 MiB
		caches = *c
	})
	ctx := context.Background()
	d.post(t, valid(-1, 10), "") // the server's own lazy set-up, before measuring
	start := heapInUse()

	// 200 registrations of 1 MB documents that do not parse, and 20 of
	// 512 KB (the audit's Redis probe).
	var garbage []string // their hashes: the test must not hold the documents
	for i := range 220 / attackScale {
		size := 1 << 20
		if i >= 200/attackScale {
			size = 512 << 10
		}
		q := fmt.Sprintf("{ users %d %s", i, strings.Repeat("x", size))
		if a := d.register(t, q); a.code() != "GRAPHQL_PARSE_FAILED" {
			t.Fatalf("garbage registration %d answered %q", i, a.code())
		}
		garbage = append(garbage, hashOf(q))
	}
	// 200 distinct valid queries carrying a 900 KB literal.
	for i := range 200 / attackScale {
		if a := d.post(t, valid(i, 900<<10), ""); a.code() != "" {
			t.Fatalf("valid query %d: %v", i, a.Errors)
		}
	}
	afterAttack := heapInUse()
	for _, h := range garbage {
		if _, ok := d.persisted.Get(ctx, h); ok {
			t.Fatal("a document that does not parse was persisted")
		}
	}
	if n, _ := rdb.Keys(ctx, prefix+"apq*").Result(); len(n) != 0 {
		t.Errorf("garbage reached Redis: %d keys", len(n))
	}
	if d.docs.Len() != 1 { // the warm-up's
		t.Errorf("%d documents over GRAPHQL_CACHE_MAX_DOCUMENT_BYTES were cached", d.docs.Len()-1)
	}

	// Valid documents enough to fill each cache past its budget: queries
	// parsing to about 200 KB each, registrations of about 60 KB (which
	// fill the Redis budget too), a quarter more than the budgets.
	for i := range caches.QueryBytes * 5 / 4 / (200 << 10) {
		if a := d.post(t, valid(1000+int(i), 200<<10), ""); a.code() != "" {
			t.Fatalf("valid query %d: %v", i, a.Errors)
		}
	}
	for i := range max(caches.APQBytes, caches.APQRedisBytes) * 5 / 4 / (60 << 10) {
		if a := d.register(t, valid(2000+int(i), 60<<10)); a.code() != "" {
			t.Fatalf("valid registration %d: %v", i, a.Errors)
		}
	}
	afterFill := heapInUse()
	redisBytes, err := d.persisted.RedisBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heap in use: %.1f MiB at the start, %.1f after the attack, %.1f with every cache full", mib(start), mib(afterAttack), mib(afterFill))
	t.Logf("parsed documents: %d, %.1f MiB of %.1f; persisted: %.1f MiB of %.1f here, %.1f MiB of %.1f in Redis",
		d.docs.Len(), mib(d.docs.Bytes()), mib(caches.QueryBytes), mib(d.persisted.Bytes()), mib(caches.APQBytes),
		mib(redisBytes), mib(caches.APQRedisBytes))

	const slack = 8 << 20
	if grown := afterAttack - start; grown > slack {
		t.Errorf("the attack, of which nothing is kept, grew the heap by %.1f MiB", mib(grown))
	}
	if d.docs.Bytes() > caches.QueryBytes || d.docs.Bytes() < caches.QueryBytes*3/4 {
		t.Errorf("parsed documents take %d bytes; want the cache nearly full, within %d", d.docs.Bytes(), caches.QueryBytes)
	}
	if d.persisted.Bytes() > caches.APQBytes || d.persisted.Bytes() < caches.APQBytes*3/4 {
		t.Errorf("persisted documents take %d bytes; want the cache nearly full, within %d", d.persisted.Bytes(), caches.APQBytes)
	}
	if redisBytes > caches.APQRedisBytes || redisBytes < caches.APQRedisBytes/2 {
		t.Errorf("Redis holds %d bytes of documents; want within %d", redisBytes, caches.APQRedisBytes)
	}
	if grown, budget := afterFill-start, caches.QueryBytes+caches.APQBytes; grown > budget+slack {
		t.Errorf("the heap grew by %.1f MiB with every cache full; want under the budgets' %.0f MiB and %.0f MiB slack",
			mib(grown), mib(budget), mib(slack))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
