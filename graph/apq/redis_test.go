package apq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
)

// document is the i-th of distinct valid documents of about n bytes.
func document(i, n int) string {
	head := fmt.Sprintf("query Q%d { users { id } } #", i)
	return head + strings.Repeat("x", max(0, n-len(head)))
}

func docKeys(t *testing.T, rdb *redis.Client, prefix string) int {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), prefix+"apq:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func usedMemory(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no used_memory in INFO memory")
	return 0
}

func TestTheFleetsDocumentsStayWithinTheRedisBudget(t *testing.T) {
	// A private server, so that used_memory is this test's alone.
	srv := redistest.Start(t)
	opt, _ := redis.ParseURL(srv.URL())
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := redistest.Prefix(t)
	ctx := context.Background()
	const budget = 2 << 20
	settings := Settings{RedisMaxBytes: budget, MaxDocumentBytes: 64 << 10}
	fail := func(op string, err error) { t.Errorf("%s: %v", op, err) }
	a, b := New(settings, rdb, prefix, fail), New(settings, rdb, prefix, fail)
	const n, size = 1000, 10 << 10 // from two replicas: five times the budget
	// Warm up what Redis allocates once (the script, the connection's
	// buffers) under another prefix, so that before..after is the documents.
	New(settings, rdb, prefix+"warm:", fail).put(ctx, hashOf(document(-1, size)), document(-1, size))
	before := usedMemory(t, rdb)
	for i := range n {
		s := []*Store{a, b}[i%2]
		s.put(ctx, hashOf(document(i, size)), document(i, size))
	}
	used, err := a.RedisBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	grown := usedMemory(t, rdb) - before
	t.Logf("budget %d: counted %d, Redis's used_memory grew %d, %d documents kept", budget, used, grown, docKeys(t, rdb, prefix))
	if used > budget || used < budget/2 {
		t.Errorf("counted %d bytes; want within the budget of %d, and most of it used", used, budget)
	}
	// The count is Redis's own measure of each key plus the index, and
	// errs on the side of more: the memory really used must not exceed it
	// (but for Redis's fixed costs, a few per cent).
	if grown > used+used/50 {
		t.Errorf("Redis grew %d bytes for %d counted", grown, used)
	}
	// The most recently registered documents are kept, from either replica.
	if _, ok := New(settings, rdb, prefix, fail).Get(ctx, hashOf(document(n-1, size))); !ok {
		t.Error("the last document registered was evicted")
	}
	if _, ok := New(settings, rdb, prefix, fail).Get(ctx, hashOf(document(0, size))); ok {
		t.Error("the first document registered is still in Redis")
	}
}

func TestRedisBudgetAccounting(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	newStore := func(prefix string, s Settings, onError func(string, error)) *Store {
		s.Now = clock
		return New(s, rdb, prefix, onError)
	}
	doc1, doc2 := document(1, 5000), document(2, 5000)

	t.Run("re-registering a document counts it once", func(t *testing.T) {
		s := newStore(redistest.Prefix(t), Settings{}, nil)
		s.put(ctx, hashOf(doc1), doc1)
		once, _ := s.RedisBytes(ctx)
		s.put(ctx, hashOf(doc1), doc1)
		twice, _ := s.RedisBytes(ctx)
		if once == 0 || twice != once {
			t.Errorf("counted %d after one registration, %d after two", once, twice)
		}
	})
	t.Run("expired documents leave the budget", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		s := newStore(prefix, Settings{TTL: time.Hour}, nil)
		s.put(ctx, hashOf(doc1), doc1)
		one, _ := s.RedisBytes(ctx)
		now = now.Add(time.Hour + time.Millisecond)
		s.put(ctx, hashOf(doc2), doc2)
		after, _ := s.RedisBytes(ctx)
		if after != one+int64(len(doc2)-len(doc1)) && after > one {
			t.Errorf("counted %d after the first document expired, want about %d", after, one)
		}
		if n := docKeys(t, rdb, prefix); n != 1 {
			t.Errorf("%d documents in Redis, want only the live one", n)
		}
	})
	t.Run("a document over the whole budget is not stored", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		var got error
		s := newStore(prefix, Settings{RedisMaxBytes: 4096, MaxDocumentBytes: 64 << 10}, func(_ string, err error) { got = err })
		s.put(ctx, hashOf(doc1), doc1)
		if used, _ := s.RedisBytes(ctx); used != 0 || docKeys(t, rdb, prefix) != 0 || !errors.Is(got, errOverBudget) {
			t.Errorf("counted %d, %d keys, error %v; want nothing stored and errOverBudget", used, docKeys(t, rdb, prefix), got)
		}
	})
}
