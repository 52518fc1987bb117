package detach

import (
	"context"
	"errors"
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
