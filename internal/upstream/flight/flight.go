// Package flight makes identical work in progress at the same moment be
// done once for everyone who asks, as golang.org/x/sync/singleflight does,
// with one difference that is the reason it exists: a call can be joined
// from the moment it is announced, before it has started, and it needs no
// goroutine until then. singleflight's DoChan starts a goroutine per call
// at once, so every upstream lookup queued behind the gateway's
// concurrency limit held a goroutine and its stack: at 256 requests in
// flight against a saturated upstream, 6 700 goroutines and 31 MB of stacks
// doing nothing but wait. Here the caller that announces a call decides
// when and where it runs, and ends it with Land (or withdraws it with
// Abandon while nobody else waits for it).
package flight

import "sync"

// Group is a set of announced calls by key. The zero value is ready to use.
type Group struct {
	mu sync.Mutex
	m  map[string]*Call
}

// Call is one announced call. Its result is readable once Done is closed.
type Call struct {
	done   chan struct{}
	val    any
	err    error
	joined int // callers besides the leader (under Group.mu)
}

// Done is closed when the call has landed.
func (c *Call) Done() <-chan struct{} { return c.done }

// Result is what the call landed with; read it after Done is closed.
func (c *Call) Result() (any, error) { return c.val, c.err }

// Join returns key's call if one is announced, or announces one, which the
// caller must then run and end with Land or Abandon (lead is true).
func (g *Group) Join(key string) (c *Call, lead bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.m[key]; ok {
		c.joined++
		return c, false
	}
	if g.m == nil {
		g.m = make(map[string]*Call)
	}
	c = &Call{done: make(chan struct{})}
	g.m[key] = c
	return c, true
}

// Land ends c with its result; callers from now on announce a new call.
func (g *Group) Land(key string, c *Call, val any, err error) {
	g.mu.Lock()
	if g.m[key] == c {
		delete(g.m, key)
	}
	g.mu.Unlock()
	c.val, c.err = val, err
	close(c.done)
}

// Abandon ends c, which its leader has not run, with err if nobody joined
// it, and reports whether it did; callers from now on announce a new call.
func (g *Group) Abandon(key string, c *Call, err error) bool {
	g.mu.Lock()
	if c.joined > 0 {
		g.mu.Unlock()
		return false
	}
	if g.m[key] == c {
		delete(g.m, key)
	}
	g.mu.Unlock()
	c.err = err
	close(c.done)
	return true
}
