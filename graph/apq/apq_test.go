package apq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/graph/doccache"
	"github.com/eventms/gateway/internal/redistest"
)

func hashOf(doc string) string {
	h := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(h[:])
}

// stores are the two ways a Store runs; each test below runs on both.
func stores(t *testing.T) map[string]func(Settings) *Store {
	rdb := redistest.Client(t)
	return map[string]func(Settings) *Store{
		"local": func(s Settings) *Store { return New(s, nil, "", nil) },
		"redis": func(s Settings) *Store {
			return New(s, rdb, redistest.Prefix(t), func(op string, err error) { t.Errorf("%s: %v", op, err) })
		},
	}
}

func TestAStoreKeepsDocumentsWithinItsLimits(t *testing.T) {
	ctx := context.Background()
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := newStore(Settings{MaxDocumentBytes: 1000})
			small, long := "{ users { id } }", "{ users { id } } #"+strings.Repeat("x", 1000)
			s.put(ctx, hashOf(small), small)
			s.put(ctx, hashOf(long), long)
			if doc, ok := s.Get(ctx, hashOf(small)); !ok || doc != small {
				t.Errorf("a registered document: %q %v", doc, ok)
			}
			if _, ok := s.Get(ctx, hashOf(long)); ok {
				t.Error("a document over MaxDocumentBytes was kept")
			}
			if got, want := s.Bytes(), doccache.TextSize(hashOf(small), small); got != want {
				t.Errorf("local bytes %d, want %d", got, want)
			}
			if _, ok := s.Get(ctx, "not-a-hash"); ok {
				t.Error("a malformed hash was found")
			}
		})
	}
}

func TestTheLocalLevelIsBoundedInBytes(t *testing.T) {
	ctx := context.Background()
	doc := func(i int) string { return fmt.Sprintf("query Q%d { users { id } } #%s", i, strings.Repeat("x", 900)) }
	one := doccache.TextSize(hashOf(doc(0)), doc(0))
	s := New(Settings{MaxBytes: 10 * one, MaxDocumentBytes: 1000}, nil, "", nil)
	for i := range 100 {
		s.put(ctx, hashOf(doc(i)), doc(i))
	}
	if s.Bytes() > 10*one {
		t.Errorf("%d bytes held, over the %d bound", s.Bytes(), 10*one)
	}
	if _, ok := s.Get(ctx, hashOf(doc(99))); !ok {
		t.Error("the last document registered was evicted")
	}
	if _, ok := s.Get(ctx, hashOf(doc(0))); ok {
		t.Error("the first document registered is still held")
	}
}

func TestAHashRegisteredOnOneReplicaIsKnownOnAll(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	a := New(Settings{}, rdb, prefix, nil)
	b := New(Settings{}, rdb, prefix, nil)
	ctx := context.Background()
	doc := "{ users { id } }"
	if _, ok := b.Get(ctx, hashOf(doc)); ok {
		t.Fatal("unknown hash found")
	}
	a.put(ctx, hashOf(doc), doc)
	if got, ok := b.Get(ctx, hashOf(doc)); !ok || got != doc {
		t.Errorf("on the other replica: %q %v", got, ok)
	}
	if b.Bytes() == 0 {
		t.Error("the document read from Redis was not kept locally")
	}
	alone := New(Settings{}, nil, "", nil)
	if _, ok := alone.Get(ctx, hashOf(doc)); ok {
		t.Error("a replica without Redis saw another's document")
	}
}

func TestAFailingRedisLeavesTheLocalLevel(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer rdb.Close()
	var errs int
	s := New(Settings{}, rdb, "x:", func(string, error) { errs++ })
	ctx := context.Background()
	doc := "{ events { id } }"
	s.put(ctx, hashOf(doc), doc)
	if got, ok := s.Get(ctx, hashOf(doc)); !ok || got != doc || errs == 0 {
		t.Errorf("%q %v after %d errors; want the local document and the failure reported", got, ok, errs)
	}
}
