package eventsim

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Hold is one request held by HoldNext.
type Hold struct {
	arrived, release, answered chan struct{}
	once                       sync.Once
}

// HoldNext holds the next request to route: its answer is made when it
// arrives, from the data as they are then, and written only once Release
// is called (or its client gives up, or after heldLimit, which turns a
// forgotten hold into a failing test, not a hung one). A test thereby has
// an upstream call in flight, for as long as it needs, whose answer
// predates whatever the test does meanwhile: a write, another read. Holds
// of one route apply to its requests in the order they were asked for.
// A dropped connection (DropNext) of a held request happens on arrival.
func (s *Sim) HoldNext(route string) *Hold {
	h := &Hold{arrived: make(chan struct{}), release: make(chan struct{}), answered: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds == nil {
		s.holds = map[string][]*Hold{}
	}
	s.holds[route] = append(s.holds[route], h)
	return h
}

// Arrived is closed once the held request has arrived and its answer is made.
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// Release lets the held request's answer go; it may be called more than once.
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }

// Answered is closed once the held request's answer is written, or its
// client left.
func (h *Hold) Answered() <-chan struct{} { return h.answered }

// heldLimit bounds a HoldNext hold: longer than any wait of a test
// (testwait.Limit), so that a test that waits for something the hold
// blocks fails, rather than passes once the hold gives way.
const heldLimit = time.Minute

// takeHold returns the next hold of route, if one is asked for.
func (s *Sim) takeHold(route string) *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := s.holds[route]
	if len(hs) == 0 {
		return nil
	}
	s.holds[route] = hs[1:]
	return hs[0]
}

// serve answers r through handler now and writes the answer on release.
func (h *Hold) serve(w http.ResponseWriter, r *http.Request, handler http.HandlerFunc) {
	defer close(h.answered)
	rec := &heldResponse{header: http.Header{}}
	handler(rec, r)
	close(h.arrived)
	select {
	case <-h.release:
	case <-r.Context().Done():
		return
	case <-time.After(heldLimit):
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// heldResponse is an answer made but not yet written.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *heldResponse) Header() http.Header { return r.header }

func (r *heldResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *heldResponse) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
