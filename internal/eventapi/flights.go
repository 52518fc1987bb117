package eventapi

import "sync"

// flights makes identical GETs in flight at the same moment share one
// upstream call, as golang.org/x/sync/singleflight does, with one
// difference that is the reason it exists: a call can be joined from the
// moment it is announced, before it has a slot under its route's
// concurrency limit, and it gets a goroutine only once it has one.
// singleflight's DoChan starts a goroutine per call at once, so every
// lookup queued behind the limit held a goroutine and its stack: at 256
// requests in flight against a saturated upstream, 2 500 goroutines and
// 20 MB of stacks doing nothing but wait.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one announced call. body and err are set before done closes.
type flight struct {
	done   chan struct{}
	body   []byte
	err    error
	joined int // callers besides the leader (under flights.mu)
}

// join returns key's call if one is announced, or announces one, which the
// caller must then start and end with land (lead is true).
func (g *flights) join(key string) (f *flight, lead bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		f.joined++
		return f, false
	}
	if g.m == nil {
		g.m = make(map[string]*flight)
	}
	f = &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// land ends f with its result; callers from now on announce a new call.
func (g *flights) land(key string, f *flight, body []byte, err error) {
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
	f.body, f.err = body, err
	close(f.done)
}

// abandon withdraws f, which its leader has not started, if nobody joined
// it, and reports whether it did; callers from now on announce a new call.
func (g *flights) abandon(key string, f *flight, err error) bool {
	g.mu.Lock()
	if f.joined > 0 {
		g.mu.Unlock()
		return false
	}
	delete(g.m, key)
	g.mu.Unlock()
	f.err = err
	close(f.done)
	return true
}
