package identity

import (
	"context"
	"time"
)

// fetchCall is one fetch of the JWK Set, which any number of callers may
// wait for.
type fetchCall struct {
	done chan struct{}
	err  error // set before done is closed
}

// startFetch starts a fetch of the JWK Set and returns it, or joins the one
// already running. Unless force is set, it starts none (and returns nil)
// when the last fetch started less than RefreshRateLimit ago: a token with a
// made-up key id must not become a request to the identity provider. It
// returns nil once the Verifier is closed.
//
// The fetch runs on the Verifier's lifetime, not a caller's context, so a
// caller that goes away does not cancel it for the others; Close ends it
// and waits for it.
func (v *Verifier) startFetch(force bool) *fetchCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case v.closed:
		return nil
	case v.inflight != nil:
		return v.inflight
	}
	now := v.cfg.Now()
	if !force && !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < v.cfg.RefreshRateLimit {
		return nil
	}
	c := &fetchCall{done: make(chan struct{})}
	v.inflight, v.lastAttempt = c, now
	v.wg.Add(1)
	go v.fetch(c)
	return c
}

func (v *Verifier) fetch(c *fetchCall) {
	defer v.wg.Done()
	ctx, cancel := context.WithTimeout(v.life, v.cfg.FetchTimeout)
	set, err := v.fetchKeys(ctx)
	cancel()
	v.mu.Lock()
	if err == nil {
		v.keys.Store(set)
		v.lastFetched = v.cfg.Now()
	}
	v.lastErr, v.inflight, c.err = err, nil, err
	v.mu.Unlock()
	if v.cfg.OnFetch != nil {
		v.cfg.OnFetch(err)
	}
	close(c.done)
}

// refreshForUnknownKey fetches the JWK Set again for a key id it does not
// hold, if the rate limit allows (or joins a fetch already running), and
// reports whether a fetch succeeded. It waits for the fetch as long as ctx
// allows.
func (v *Verifier) refreshForUnknownKey(ctx context.Context) bool {
	c := v.startFetch(false)
	if c == nil {
		return false
	}
	select {
	case <-c.done:
		return c.err == nil
	case <-ctx.Done():
		return false
	}
}

// refreshLoop keeps the JWK Set fresh: after first, a fetch every
// RefreshInterval, or every RefreshRateLimit while fetching fails, so that
// a replica that started while the identity provider was down becomes ready
// soon after it is back.
func (v *Verifier) refreshLoop(first *fetchCall) {
	defer v.wg.Done()
	for c := first; c != nil; c = v.startFetch(true) {
		select {
		case <-c.done:
		case <-v.life.Done():
			return
		}
		wait := v.cfg.RefreshInterval
		if c.err != nil {
			wait = v.cfg.RefreshRateLimit
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-v.life.Done():
			t.Stop()
			return
		}
	}
}

// Status is the state of a Verifier's keys, for /readyz.
type Status struct {
	// Ready is false until the JWK Set has been fetched once (always true
	// with a development key alone): until then no token from the
	// identity provider can be verified, and the replica should not get
	// traffic.
	Ready bool `json:"ready"`
	// Keys is how many keys tokens are verified with (the development key
	// included).
	Keys int `json:"keys"`
	// LastFetched is when the JWK Set was last fetched successfully.
	LastFetched time.Time `json:"lastFetched,omitzero"`
	// LastAttempt is when the last fetch started.
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	// LastRefreshFailed says the last fetch failed: the keys of LastFetched
	// are still used, and tokens signed with a key added since are refused.
	LastRefreshFailed bool `json:"lastRefreshFailed"`
	// Error is why the last fetch failed (it names URLs, never keys).
	Error string `json:"error,omitempty"`
}

// Status reports the state of the keys. It is cheap: it reads what the
// fetches recorded and never fetches.
func (v *Verifier) Status() Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := Status{
		Ready:       !v.remote || !v.lastFetched.IsZero(),
		Keys:        v.keys.Load().size(),
		LastFetched: v.lastFetched,
		LastAttempt: v.lastAttempt,
	}
	if v.dev != nil {
		s.Keys++
	}
	if v.lastErr != nil {
		s.LastRefreshFailed, s.Error = true, v.lastErr.Error()
	}
	return s
}
