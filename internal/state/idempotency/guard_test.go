package idempotency

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestMemoryTTLAndBound(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	m, err := NewMemory[int](2, c.now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = m.Put(ctx, "a", 1, time.Hour)
	c.t = c.t.Add(59 * time.Minute)
	if v, ok, _ := m.Get(ctx, "a"); !ok || v != 1 {
		t.Errorf("before TTL: %d %v", v, ok)
	}
	c.t = c.t.Add(time.Minute)
	if _, ok, _ := m.Get(ctx, "a"); ok {
		t.Error("still there at TTL")
	}
	for i := 0; i < 5; i++ {
		_ = m.Put(ctx, strconv.Itoa(i), i, time.Hour)
	}
	if m.Len() != 2 {
		t.Errorf("%d keys held, want the bound 2", m.Len())
	}
	if _, ok, _ := m.Get(ctx, "4"); !ok {
		t.Error("most recent key evicted")
	}
	if _, err := NewMemory[int](0, nil); err == nil {
		t.Error("capacity 0 accepted")
	}
}

func newGuard(t *testing.T) (*Guard[string], *clock) {
	c := &clock{t: time.Unix(0, 0)}
	m, err := NewMemory[string](100, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return NewGuard[string](m, time.Hour, Options{}), c
}

func TestRepeatedKeyReplaysWithoutWriting(t *testing.T) {
	g, c := newGuard(t)
	var writes atomic.Int32
	write := func(context.Context) (string, error) { return "v" + strconv.Itoa(int(writes.Add(1))), nil }
	ctx := context.Background()
	v1, r1, err1 := g.Do(ctx, "k", write)
	v2, r2, err2 := g.Do(ctx, "k", write)
	if err1 != nil || err2 != nil || v1 != "v1" || v2 != "v1" || r1 || !r2 || writes.Load() != 1 {
		t.Fatalf("got (%s,%v,%v) (%s,%v,%v), %d writes", v1, r1, err1, v2, r2, err2, writes.Load())
	}
	c.t = c.t.Add(time.Hour)
	if v, r, _ := g.Do(ctx, "k", write); v != "v2" || r {
		t.Errorf("after TTL: %s replayed=%v, want a new write", v, r)
	}
}

func TestFailuresAreNotRemembered(t *testing.T) {
	g, _ := newGuard(t)
	boom := errors.New("boom")
	if _, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	v, r, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "ok", nil })
	if err != nil || v != "ok" || r {
		t.Errorf("retry after failure: %s %v %v, want a fresh write", v, r, err)
	}
}

// observedStore reports every value it remembers on puts.
type observedStore struct {
	Store[string]
	puts chan string
}

func (s *observedStore) Put(ctx context.Context, key string, v string, ttl time.Duration) error {
	err := s.Store.Put(ctx, key, v, ttl)
	s.puts <- key
	return err
}

func TestConcurrentDuplicatesWaitForTheFirst(t *testing.T) {
	g, _ := newGuard(t)
	var writes atomic.Int32
	release := make(chan struct{})
	write := func(context.Context) (string, error) {
		writes.Add(1)
		<-release
		return "only", nil
	}
	const callers = 20
	waiting := make(chan struct{}, callers)
	var wg sync.WaitGroup
	var replays atomic.Int32
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := testwait.WaitingContext(context.Background(), waiting)
			v, r, err := g.Do(ctx, "k", write)
			if err != nil || v != "only" {
				t.Errorf("%s %v", v, err)
			}
			if r {
				replays.Add(1)
			}
		}()
	}
	// Every caller, the first included, waits on the one write, which is
	// held until release: the duplicates have piled up behind the first.
	for i := 0; i < callers; i++ {
		testwait.Recv(t, waiting, "the callers to wait on the write")
	}
	close(release)
	wg.Wait()
	if writes.Load() != 1 || replays.Load() != 19 {
		t.Errorf("%d writes, %d replays; want 1 and 19", writes.Load(), replays.Load())
	}
}

func TestWriteOutlivesACallerWhoLeaves(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	m, err := NewMemory[string](100, c.now)
	if err != nil {
		t.Fatal(err)
	}
	store := &observedStore{Store: m, puts: make(chan string, 4)}
	g := NewGuard[string](store, time.Hour, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	release := make(chan struct{})
	wrote := make(chan error, 1)
	left := make(chan error, 1)
	go func() {
		_, _, err := g.Do(ctx, "k", func(wctx context.Context) (string, error) {
			close(started)
			<-release // held until its caller has left
			err := wctx.Err()
			wrote <- err
			return "kept", err
		})
		left <- err
	}()
	<-started
	cancel()
	if err := testwait.Recv(t, left, "the caller to leave"); !errors.Is(err, context.Canceled) {
		t.Errorf("leaving caller got %v, want canceled", err)
	}
	close(release) // the caller has gone; the write goes on
	if err := testwait.Recv(t, wrote, "the write to end"); err == nil {
		testwait.Recv(t, store.puts, "the write's outcome to be remembered")
	}
	v, r, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "second write", nil })
	if err != nil || v != "kept" || !r {
		t.Errorf("retry: %s %v %v, want the first write's outcome", v, r, err)
	}
}
