// Package upstreamtest is an Event API that fails on purpose, for the tests
// of the retry budgets at each layer (the client, the entity cache, the
// REST door): every call is answered 502, a retryable failure, and the
// first calls wait until released, so a test can hold two callers in
// flight at once and count what each spent. It is for tests only.
package upstreamtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// HeldFailure answers every call 502; its first held calls, once arrived,
// wait for Release (or for their caller to leave).
type HeldFailure struct {
	held     int32
	attempts atomic.Int32
	arrived  chan struct{}
	release  chan struct{}
	once     sync.Once
}

// NewHeldFailure holds the first held calls; it releases them when t ends
// if the test has not. A server that serves h and is closed by a cleanup
// registered after this one must release h first (Serve does): closing
// waits for the held calls.
func NewHeldFailure(t testing.TB, held int) *HeldFailure {
	h := &HeldFailure{held: int32(held), arrived: make(chan struct{}, held), release: make(chan struct{})}
	t.Cleanup(h.Release)
	return h
}

// Serve serves h until t ends and returns its URL.
func (h *HeldFailure) Serve(t testing.TB) string {
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Release(); srv.Close() })
	return srv.URL
}

// ServeHTTP answers 502, after Release for the first held calls.
func (h *HeldFailure) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.attempts.Add(1) <= h.held {
		h.arrived <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(http.StatusBadGateway)
}

// Arrived delivers once per held call, when it arrives.
func (h *HeldFailure) Arrived() <-chan struct{} { return h.arrived }

// Release lets the held calls be answered; later calls answer at once.
func (h *HeldFailure) Release() { h.once.Do(func() { close(h.release) }) }

// Attempts is the number of calls that arrived.
func (h *HeldFailure) Attempts() int { return int(h.attempts.Load()) }
