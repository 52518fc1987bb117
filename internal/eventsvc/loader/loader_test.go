package loader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// fakeSource records lookups; ids starting with "missing" are unknown and
// "bad" ids fail.
type fakeSource struct {
	mu      sync.Mutex
	calls   map[string]int
	batches [][]string
}

var errBoom = errors.New("boom")

func (f *fakeSource) Event(_ context.Context, id string) (*eventapi.Event, error) {
	f.mu.Lock()
	f.calls[id]++
	f.mu.Unlock()
	switch id {
	case "missing":
		return nil, fmt.Errorf("event %q: %w", id, eventapi.ErrNotFound)
	case "bad":
		return nil, errBoom
	}
	return &eventapi.Event{ID: id}, nil
}

// EventsByID records the batch and answers each id as Event does.
func (f *fakeSource) EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error) {
	f.mu.Lock()
	f.batches = append(f.batches, ids)
	f.mu.Unlock()
	es, errs := make([]*eventapi.Event, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		es[i], errs[i] = f.Event(ctx, id)
	}
	return es, errs
}

func (f *fakeSource) UsersByID(_ context.Context, ids []string) ([]*eventapi.User, []error) {
	return make([]*eventapi.User, len(ids)), make([]error, len(ids))
}

// checkAnswers checks what LoadAll answered for fakeSource's keys: "missing"
// is a nil value without error, "bad" fails, any other key is its event.
func checkAnswers(t *testing.T, keys []string, got []*eventapi.Event, errs []error) {
	t.Helper()
	for i, k := range keys {
		switch k {
		case "missing":
			if got[i] != nil || errs[i] != nil {
				t.Errorf("missing: %v %v, want nil value and no error", got[i], errs[i])
			}
		case "bad":
			if !errors.Is(errs[i], errBoom) {
				t.Errorf("bad: err %v, want boom", errs[i])
			}
		default:
			if got[i] == nil || got[i].ID != k || errs[i] != nil {
				t.Errorf("key %d (%s): %v %v", i, k, got[i], errs[i])
			}
		}
	}
}

func TestLoadAllKeepsOrderPerKeyErrorsAndFetchesOnce(t *testing.T) {
	src := &fakeSource{calls: map[string]int{}}
	var batches []int
	l := New(src, Options{Wait: time.Millisecond, BatchSize: func(_ string, n int) { batches = append(batches, n) }})
	keys := []string{"b", "a", "missing", "b", "bad", "a"}
	got, errs := LoadAll(context.Background(), l.Events, keys)
	checkAnswers(t, keys, got, errs)
	for k, n := range src.calls {
		if n != 1 {
			t.Errorf("%s fetched %d times, want once", k, n)
		}
	}
	if len(batches) != 1 || batches[0] != 4 {
		t.Errorf("batches %v, want one batch of the 4 distinct keys", batches)
	}
	if errs == nil || len(errs) != len(keys) {
		t.Errorf("errs %v, want one slot per key", errs)
	}
}

func TestPrimedKeysAreNotFetched(t *testing.T) {
	src := &fakeSource{calls: map[string]int{}}
	l := New(src, Options{})
	l.Events.Prime(context.Background(), "p", &eventapi.Event{ID: "p", Name: "primed"})
	e, err := l.Events.Load(context.Background(), "p")()
	if err != nil || e.Name != "primed" || src.calls["p"] != 0 {
		t.Errorf("primed load: %v %v, %d fetches", e, err, src.calls["p"])
	}
}

func TestContextCarriesLoaders(t *testing.T) {
	l := New(&fakeSource{calls: map[string]int{}}, Options{})
	if From(context.Background()) != nil || From(WithLoaders(context.Background(), l)) != l {
		t.Error("From does not return what WithLoaders stored")
	}
}

type instantSource struct{}

func (instantSource) EventsByID(_ context.Context, ids []string) ([]*eventapi.Event, []error) {
	es := make([]*eventapi.Event, len(ids))
	for i, id := range ids {
		es[i] = &eventapi.Event{ID: id}
	}
	return es, make([]error, len(ids))
}

func (instantSource) UsersByID(_ context.Context, ids []string) ([]*eventapi.User, []error) {
	return make([]*eventapi.User, len(ids)), make([]error, len(ids))
}

// BenchmarkLoadAll200 is one request's batch of 200 event ids: loader
// creation, batching, concurrent dispatch and results in order.
func BenchmarkLoadAll200(b *testing.B) {
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprintf("e%d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		l := New(instantSource{}, Options{})
		if _, errs := LoadAll(context.Background(), l.Events, keys); errs != nil {
			b.Fatal(errs)
		}
	}
}

// The source gets a batch's distinct ids in one call.
func TestSourceGetsTheBatchInOneCall(t *testing.T) {
	src := &fakeSource{calls: map[string]int{}}
	// A window, so that a busy machine cannot close the batch between two
	// keys (see LoadAll).
	l := New(src, Options{Wait: 100 * time.Millisecond})
	keys := []string{"b", "a", "missing", "b", "bad", "a"}
	got, errs := LoadAll(context.Background(), l.Events, keys)
	if len(src.batches) != 1 || fmt.Sprint(src.batches[0]) != "[b a missing bad]" {
		t.Fatalf("batches %v, want one with the 4 distinct ids in order", src.batches)
	}
	checkAnswers(t, keys, got, errs)
}
