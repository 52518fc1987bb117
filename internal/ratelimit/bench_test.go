package ratelimit

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/redistest"
)

var benchRate = Rate{N: 1 << 30, Per: time.Second}

// One caller's requests, decided in the process.
func BenchmarkMemoryAllow(b *testing.B) {
	m, err := NewMemory(benchRate, 100000, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Allow(ctx, "user:3", 1); err != nil {
			b.Fatal(err)
		}
	}
}

// Callers twice as many as the bound: every decision makes a bucket and
// evicts another (the worst case, a flood of distinct addresses).
func BenchmarkMemoryAllowNewKeys(b *testing.B) {
	const bound = 1000
	m, err := NewMemory(benchRate, bound, nil)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 2*bound)
	for i := range keys {
		keys[i] = "addr:" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Allow(ctx, keys[i%len(keys)], 1); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// One caller's requests, decided by the fleet's Redis (a round trip to a
// local redis-server: EVALSHA of redis_rate's script).
func BenchmarkRedisAllow(b *testing.B) {
	l, err := NewRedis(redistest.Client(b), redistest.Prefix(b), "requests", benchRate)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Allow(ctx, "user:3", 1); err != nil {
			b.Fatal(err)
		}
	}
}

// The key of an anonymous caller behind two trusted proxies: what every
// request pays before its budget is asked.
func BenchmarkCallerKey(b *testing.B) {
	key := CallerKey(nil, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	r := httptest.NewRequest("GET", "/graphql", nil)
	r.RemoteAddr = "10.0.0.1:51234"
	r.Header.Set("X-Forwarded-For", "198.51.100.7, 10.0.0.2")
	b.ReportAllocs()
	for b.Loop() {
		if key(r) != "addr:198.51.100.7" {
			b.Fatal("wrong key")
		}
	}
}
