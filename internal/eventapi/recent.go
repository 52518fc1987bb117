package eventapi

import (
	"sync"
	"time"
)

// maxRecent bounds the bodies held for the coalescing window.
const maxRecent = 4096

// recentBodies holds successful GET bodies for a short window, so that a
// burst of identical reads arriving just after a call completed shares it
// too. Writes through this client forget what they change.
type recentBodies struct {
	window time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string]recentBody
}

type recentBody struct {
	body  []byte
	until time.Time
}

func (r *recentBodies) get(path string) ([]byte, bool) {
	if r.window <= 0 {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[path]
	if !ok || !r.now().Before(e.until) {
		return nil, false
	}
	return e.body, true
}

func (r *recentBodies) put(path string, body []byte) {
	if r.window <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if len(r.m) >= maxRecent {
		for k, e := range r.m {
			if !now.Before(e.until) {
				delete(r.m, k)
			}
		}
		if len(r.m) >= maxRecent {
			return // more distinct reads in one window than we hold: skip
		}
	}
	r.m[path] = recentBody{body: body, until: now.Add(r.window)}
}

func (r *recentBodies) forget(paths ...string) {
	if r.window <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range paths {
		delete(r.m, p)
	}
}
