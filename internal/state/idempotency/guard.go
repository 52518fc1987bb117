package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/eventms/gateway/internal/upstream/detach"
)

// ErrInProgress is returned when another writer (on this replica or
// another) holds the key and its outcome did not arrive before the
// caller's deadline: the client should retry later with the same key.
var ErrInProgress = errors.New("a write with this idempotency key is in progress")

// StoreError is a failure of the store itself: whether the key was used
// cannot be known, so the write is not attempted (a duplicate is worse
// than a refusal).
type StoreError struct{ Err error }

func (e *StoreError) Error() string { return "idempotency store: " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// Options tune a Guard; zero values take the defaults in brackets.
//
//	Lease [30s]  how long a claim lasts if its writer dies mid-write
//	Poll  [25ms] how often a duplicate looks for the first writer's outcome
type Options struct {
	Lease time.Duration
	Poll  time.Duration
}

// Guard runs a write at most once per key within the TTL: a repeated key gets
// the remembered value, and concurrent duplicates wait for the first, on this
// replica (they share one flight) and across replicas sharing the store (the
// store's claim lets one writer in; the others wait for its outcome).
type Guard[V any] struct {
	store   Store[V]
	ttl     time.Duration
	opt     Options
	flights singleflight.Group
}

// NewGuard returns a Guard remembering successes in store for ttl.
func NewGuard[V any](store Store[V], ttl time.Duration, opt Options) *Guard[V] {
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = 25 * time.Millisecond
	}
	return &Guard[V]{store: store, ttl: ttl, opt: opt}
}

// Do returns the value remembered for key, or runs write and, if it
// succeeds, remembers its value. A failure is not remembered: the client may
// retry it. replayed reports whether the value came from an earlier call
// (or from a concurrent duplicate). Errors of the store are *StoreError;
// a duplicate whose deadline passed while another writer held the key gets
// ErrInProgress.
//
// write runs detached from ctx's cancellation: once started, a write runs
// to its end (bounded by the caller's deadline and the upstream timeout) so
// its outcome is remembered for the client's retry, even if this caller left.
func (g *Guard[V]) Do(ctx context.Context, key string, write func(context.Context) (V, error)) (v V, replayed bool, err error) {
	if v, ok, err := g.store.Get(ctx, key); err != nil {
		return v, false, &StoreError{Err: err}
	} else if ok {
		return v, true, nil
	}
	led := false
	ch := g.flights.DoChan(key, func() (any, error) {
		led = true // only this caller's closure runs; the channel send orders it before our read
		wctx, cancel := detach.From(context.Background(), ctx)
		defer cancel()
		return g.claimAndWrite(wctx, key, write)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return v, false, r.Err
		}
		res := r.Val.(result[V])
		return res.v, res.replayed || !led, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The write (this caller's, or another replica's it waits for)
			// is still going: the client should retry with the same key.
			return v, false, fmt.Errorf("idempotency key %q: %w", key, ErrInProgress)
		}
		return v, false, ctx.Err()
	}
}

// claimAndWrite writes under a claim on key, or waits for the writer that
// holds it: until its outcome arrives, until its claim ends without one
// (then this caller claims), or until ctx's deadline.
func (g *Guard[V]) claimAndWrite(ctx context.Context, key string, write func(context.Context) (V, error)) (any, error) {
	token := newToken()
	for {
		if v, ok, err := g.store.Get(ctx, key); err != nil {
			return nil, &StoreError{Err: err}
		} else if ok {
			return result[V]{v: v, replayed: true}, nil
		}
		claimed, err := g.store.Claim(ctx, key, token, g.opt.Lease)
		if err != nil {
			return nil, &StoreError{Err: err}
		}
		if claimed {
			return g.write(ctx, key, token, write)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("idempotency key %q: %w", key, ErrInProgress)
		case <-time.After(g.opt.Poll):
		}
	}
}

func (g *Guard[V]) write(ctx context.Context, key, token string, write func(context.Context) (V, error)) (any, error) {
	v, err := write(ctx)
	if err != nil {
		// Best effort: if the release is lost, the claim ends with its lease.
		_ = g.store.Release(context.WithoutCancel(ctx), key, token)
		return nil, err
	}
	// The write happened: report it even if remembering it fails (the
	// claim then ends with its lease, after which a retry would write again).
	_ = g.store.Put(context.WithoutCancel(ctx), key, v, g.ttl)
	return result[V]{v: v}, nil
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type result[V any] struct {
	v        V
	replayed bool
}
