package idempotency

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
)

// backend is one Store implementation under the shared suite, with a way
// to make a claim's lease run out.
type backend struct {
	name   string
	store  Store[string]
	expire func(key string)
}

func backends(t *testing.T) []backend {
	c := &clock{t: time.Unix(0, 0)}
	m, err := NewMemory[string](100, c.now)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	return []backend{
		{"memory", m, func(string) { c.t = c.t.Add(time.Hour) }},
		{"redis", NewRedis[string](rdb, prefix), func(key string) { rdb.Del(context.Background(), prefix+"idem:"+key) }},
	}
}

// Every Store must pass this suite.
func TestStoreContract(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.store
			if _, ok, err := s.Get(ctx, "k1"); ok || err != nil {
				t.Fatalf("unknown key: %v %v", ok, err)
			}
			if ok, err := s.Claim(ctx, "k1", "a", time.Minute); !ok || err != nil {
				t.Fatalf("first claim: %v %v", ok, err)
			}
			if ok, _ := s.Claim(ctx, "k1", "b", time.Minute); ok {
				t.Error("a second writer claimed a claimed key")
			}
			if _, ok, _ := s.Get(ctx, "k1"); ok {
				t.Error("a claim without an outcome was found")
			}
			if err := s.Release(ctx, "k1", "b"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.Claim(ctx, "k1", "c", time.Minute); ok {
				t.Error("another writer's release ended the claim")
			}
			if err := s.Release(ctx, "k1", "a"); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.Claim(ctx, "k1", "d", time.Minute); !ok {
				t.Error("released key could not be claimed")
			}
			if err := s.Put(ctx, "k1", "outcome", time.Hour); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := s.Get(ctx, "k1"); !ok || v != "outcome" || err != nil {
				t.Errorf("after put: %q %v %v", v, ok, err)
			}
			if ok, _ := s.Claim(ctx, "k1", "e", time.Minute); ok {
				t.Error("a key with an outcome was claimed")
			}
			// A writer that died: its claim ends with the lease.
			if ok, _ := s.Claim(ctx, "k2", "dead", time.Minute); !ok {
				t.Fatal("claim k2")
			}
			b.expire("k2")
			if ok, _ := s.Claim(ctx, "k2", "alive", time.Minute); !ok {
				t.Error("an expired claim still held the key")
			}
			// Exactly one of many concurrent claimers wins.
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if ok, err := s.Claim(ctx, "k3", "w", time.Minute); ok && err == nil {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Errorf("%d concurrent claimers won; want 1", wins.Load())
			}
		})
	}
}

// Two replicas (each its own Guard and flights) sharing one Redis store:
// the same key sent to both at once is written once, and both answer with
// the one outcome.
func TestGuardsSharingRedisWriteOnce(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	var writes atomic.Int32
	write := func(context.Context) (string, error) {
		n := writes.Add(1)
		time.Sleep(20 * time.Millisecond) // a write takes a while: the other replica arrives meanwhile
		return "event-" + string(rune('0'+n)), nil
	}
	const replicas = 3
	results := make(chan string, replicas*10)
	var wg sync.WaitGroup
	for r := 0; r < replicas; r++ {
		g := NewGuard[string](NewRedis[string](rdb, prefix), time.Hour, Options{Poll: 5 * time.Millisecond})
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				v, _, err := g.Do(ctx, "same-key-1", write)
				if err != nil {
					t.Error(err)
				}
				results <- v
			}()
		}
	}
	wg.Wait()
	close(results)
	seen := map[string]bool{}
	for v := range results {
		seen[v] = true
	}
	if writes.Load() != 1 || len(seen) != 1 {
		t.Errorf("%d writes, outcomes %v; want 1 write and one outcome everywhere", writes.Load(), seen)
	}
}

// A Redis that does not answer makes keyed writes fail with *StoreError
// before anything is written.
func TestStoreFailureRefusesTheWrite(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	g := NewGuard[string](NewRedis[string](rdb, "x:"), time.Hour, Options{})
	var writes atomic.Int32
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { writes.Add(1); return "v", nil })
	var se *StoreError
	if !errors.As(err, &se) || writes.Load() != 0 {
		t.Errorf("err %v after %d writes; want *StoreError and no write", err, writes.Load())
	}
}

// A duplicate whose deadline passes while another writer holds the key
// gets ErrInProgress, and nothing is written twice.
func TestDuplicateGivesUpAtItsDeadline(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	m, _ := NewMemory[string](10, c.now)
	if ok, _ := m.Claim(context.Background(), "k", "other-replica", time.Hour); !ok {
		t.Fatal("claim")
	}
	g := NewGuard[string](m, time.Hour, Options{Poll: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, _, err := g.Do(ctx, "k", func(context.Context) (string, error) { t.Error("wrote a claimed key"); return "", nil })
	if !errors.Is(err, ErrInProgress) {
		t.Errorf("err %v; want ErrInProgress", err)
	}
}
