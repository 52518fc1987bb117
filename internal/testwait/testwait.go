// Package testwait lets tests wait for events instead of sleeping: a
// condition polled until it holds, a value a channel delivers, the moment a
// caller starts waiting on its context. The limits only turn a hang into a
// failure; no test relies on how long anything takes. It is for tests only.
package testwait

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Limit is how long a wait may take before the test fails.
const Limit = 10 * time.Second

// For polls cond until it holds: for states that are reached by goroutines
// the test cannot hook (a waiter parked on a lock, a subscriber registered).
func For(t testing.TB, cond func() bool) {
	t.Helper()
	Until(t, "condition", cond)
}

// Until is For with what names the awaited state in the failure.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", Limit, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Recv waits for what ch delivers; what names it in the failure.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Limit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// WaitingContext returns ctx, which sends on waiting the first time its
// Done channel is asked for. Code that asks for Done only in the select
// where it waits (for a shared call's result, a write's outcome) thereby
// reports "this caller now waits": the ordering a sleep could only hope for.
func WaitingContext(ctx context.Context, waiting chan<- struct{}) context.Context {
	return &waitingCtx{Context: ctx, waiting: waiting}
}

type waitingCtx struct {
	context.Context
	once    sync.Once
	waiting chan<- struct{}
}

func (c *waitingCtx) Done() <-chan struct{} {
	c.once.Do(func() { c.waiting <- struct{}{} })
	return c.Context.Done()
}
