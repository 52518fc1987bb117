package adaptivelimit

import "context"

// Acquire waits for a slot, in arrival order, until ctx ends.
func (l *Limiter) Acquire(ctx context.Context) (Permit, error) {
	var t [1]Ticket
	l.Reserve(t[:])
	p, err := t[0].Wait(ctx)
	if err != nil {
		t[0].Cancel()
	}
	return p, err
}

// Ticket is one call's place in the queue for a slot, taken by Reserve.
// Its owner either Waits for the slot (and later calls the Permit's Done)
// or Cancels the ticket; tickets are not for concurrent use.
type Ticket struct {
	l      *Limiter
	w      *waiter // nil: the slot was free when the ticket was taken
	p      Permit  // the slot, once Wait has returned it
	taken  bool    // Wait returned the slot
	cancel bool
}

// Reserve takes a place in the queue for each of ts, one after another
// and before anyone else, so that a caller with many calls to make keeps
// arrival order for all of them without a goroutine per call waiting.
// Slots free at once are granted at once.
func (l *Limiter) Reserve(ts []Ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range ts {
		ts[i] = Ticket{l: l}
		if len(l.waiters) == 0 && l.inFlight < l.cap() {
			l.inFlight++
			l.startWindowLocked()
			if l.inFlight >= l.cap() {
				l.win.saturated = true
			}
			continue
		}
		w := &waiter{ready: make(chan struct{})}
		l.waiters = append(l.waiters, w)
		l.win.saturated = true
		ts[i].w = w
	}
}

// Wait returns the ticket's slot once it is granted, or ctx's error if ctx
// ends first; the ticket keeps its place then, for a later Wait or Cancel.
// The call's latency is counted from Wait's first return; later Waits
// return the same slot at once.
func (t *Ticket) Wait(ctx context.Context) (Permit, error) {
	if t.taken {
		return t.p, nil
	}
	if t.w != nil {
		select {
		case <-t.w.ready:
		case <-ctx.Done():
			return Permit{}, ctx.Err()
		}
	}
	l := t.l
	l.mu.Lock()
	l.startWindowLocked()
	t.p = Permit{l: l, start: l.cfg.Now(), inFlight: l.inFlight}
	l.mu.Unlock()
	t.taken = true
	return t.p, nil
}

// Cancel gives up the ticket: its place in the queue, or its slot if it
// was granted and Wait has not returned it.
func (t *Ticket) Cancel() {
	if t.taken || t.cancel {
		return
	}
	t.cancel = true
	l := t.l
	l.mu.Lock()
	if t.w != nil && !t.w.done {
		l.removeLocked(t.w)
		l.mu.Unlock()
		return
	}
	l.inFlight--
	wake := l.wakeLocked()
	l.mu.Unlock()
	wakeAll(wake)
}
