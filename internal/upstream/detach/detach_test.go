package detach

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

type key struct{}

func TestFromOutlivesCancellationButNotTheDeadline(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "request-7"), deadline)
	d, stop := From(context.Background(), ctx)
	defer stop()
	cancel()
	if d.Err() != nil {
		t.Fatalf("detached context ended with its caller: %v", d.Err())
	}
	if got, ok := d.Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("deadline %v %v; want the caller's %v", got, ok, deadline)
	}
	if d.Value(key{}) != "request-7" {
		t.Errorf("value %v; want the caller's", d.Value(key{}))
	}
}

func TestFromEndsWithItsParentAndItsDeadline(t *testing.T) {
	parent, closeAll := context.WithCancel(context.Background())
	d, stop := From(parent, context.Background())
	defer stop()
	closeAll()
	<-d.Done()
	if !errors.Is(d.Err(), context.Canceled) {
		t.Errorf("err %v; want canceled by the parent", d.Err())
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	d2, stop2 := From(context.Background(), expired)
	defer stop2()
	<-d2.Done()
	if !errors.Is(d2.Err(), context.DeadlineExceeded) {
		t.Errorf("err %v; want the caller's deadline", d2.Err())
	}
}

// Detaching costs no goroutine: a thousand shared upstream calls in flight
// must not mean a thousand watchers.
func TestFromStartsNoGoroutine(t *testing.T) {
	parent, closeAll := context.WithCancel(context.Background())
	defer closeAll()
	req, cancelReq := context.WithTimeout(context.WithValue(context.Background(), key{}, "r"), time.Hour)
	defer cancelReq()
	before := runtime.NumGoroutine()
	stops := make([]context.CancelFunc, 100)
	for i := range stops {
		_, stops[i] = From(parent, req)
	}
	if after := runtime.NumGoroutine(); after != before {
		t.Errorf("%d goroutines after 100 detached contexts, %d before", after, before)
	}
	for _, stop := range stops {
		stop()
	}
}
