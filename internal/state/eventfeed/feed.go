// Package eventfeed carries added events to their subscribers (the
// eventAdded subscription): every addEvent that succeeds through any
// replica, and events other clients added to the upstream, which a poller
// finds while anyone is subscribed. Each event reaches each subscriber
// once. A subscriber that does not keep up is dropped rather than buffered
// without bound.
package eventfeed

import (
	"context"
	"errors"
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Bus carries events between the replicas of a fleet. Memory (one
// process) delivers a publication to this process only; Redis to every
// replica.
type Bus interface {
	// Publish sends e to every replica's listener, this one's included.
	Publish(ctx context.Context, e eventapi.Event) error
	// Listen delivers what is published from now on to deliver, until ctx
	// ends. It returns once it listens.
	Listen(ctx context.Context, deliver func(eventapi.Event)) error
}

// Hooks observe the feed (metrics); nil funcs are skipped.
type Hooks struct {
	// Subscribers runs with the count after every change.
	Subscribers func(n int)
	// Delivered runs for every event sent to a subscriber.
	Delivered func()
	// Dropped runs when a subscriber is dropped for not keeping up.
	Dropped func()
}

// ErrSlowConsumer ends a subscription that did not keep up.
var ErrSlowConsumer = errors.New("subscriber did not keep up with the events and was dropped")

// Feed fans events out to this replica's subscribers.
type Feed struct {
	bus    Bus
	buffer int
	hooks  Hooks
	seen   *lru.Cache[string, struct{}] // event ids already delivered

	mu   sync.Mutex
	subs map[*Subscription]struct{}
	// active is signalled when the first subscriber arrives (the poller
	// runs only while someone listens).
	active chan struct{}

	stop    context.CancelFunc // ends what Run started
	running sync.WaitGroup     // the poller
}

// Subscription is one subscriber's stream.
type Subscription struct {
	// C receives the events; it is closed when the subscription ends.
	C      <-chan eventapi.Event
	c      chan eventapi.Event
	userID string // "" for every user
	err    error
	once   sync.Once
}

// Err says why C was closed: nil when the subscriber left, or
// ErrSlowConsumer.
func (s *Subscription) Err() error { return s.err }

// New returns a Feed on bus; buffer is each subscriber's queue length.
func New(bus Bus, buffer int, hooks Hooks) *Feed {
	seen, _ := lru.New[string, struct{}](10000)
	return &Feed{bus: bus, buffer: max(buffer, 1), hooks: hooks, seen: seen,
		subs: map[*Subscription]struct{}{}, active: make(chan struct{}, 1)}
}

// Start delivers the bus's events to the subscribers until ctx ends.
func (f *Feed) Start(ctx context.Context) error { return f.bus.Listen(ctx, f.deliver) }

// Run delivers the bus's events to the subscribers and runs p (if set) on
// a goroutine of its own, both until Close.
func (f *Feed) Run(p *Poller) error {
	ctx, stop := context.WithCancel(context.Background())
	if err := f.Start(ctx); err != nil {
		stop()
		return fmt.Errorf("added-events feed: %w", err)
	}
	f.stop = stop
	if p != nil {
		f.running.Go(func() { p.Run(ctx) })
	}
	return nil
}

// Publish announces an added event to every replica's subscribers.
func (f *Feed) Publish(ctx context.Context, e eventapi.Event) error { return f.bus.Publish(ctx, e) }

// Subscribe starts a stream of the events of userID ("" for all), ended
// when ctx ends.
func (f *Feed) Subscribe(ctx context.Context, userID string) *Subscription {
	c := make(chan eventapi.Event, f.buffer)
	s := &Subscription{C: c, c: c, userID: userID}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	n := len(f.subs)
	f.mu.Unlock()
	if n == 1 {
		select {
		case f.active <- struct{}{}:
		default:
		}
	}
	f.count(n)
	context.AfterFunc(ctx, func() { f.end(s, nil) })
	return s
}

// Subscribers is the number of this replica's subscribers.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// deliver sends e to every matching subscriber, once per event id.
func (f *Feed) deliver(e eventapi.Event) {
	if ok, _ := f.seen.ContainsOrAdd(e.ID, struct{}{}); ok {
		return
	}
	f.mu.Lock()
	var slow []*Subscription
	for s := range f.subs {
		if s.userID != "" && s.userID != e.UserID {
			continue
		}
		select {
		case s.c <- e:
			if f.hooks.Delivered != nil {
				f.hooks.Delivered()
			}
		default:
			slow = append(slow, s)
		}
	}
	f.mu.Unlock()
	for _, s := range slow {
		if f.hooks.Dropped != nil {
			f.hooks.Dropped()
		}
		f.end(s, ErrSlowConsumer)
	}
}

// end removes s and closes its stream, once.
func (f *Feed) end(s *Subscription, err error) {
	s.once.Do(func() {
		f.mu.Lock()
		delete(f.subs, s)
		n := len(f.subs)
		s.err = err
		close(s.c)
		f.mu.Unlock()
		f.count(n)
	})
}

func (f *Feed) count(n int) {
	if f.hooks.Subscribers != nil {
		f.hooks.Subscribers(n)
	}
}

// Close ends every subscription and what Run started, and waits for the
// poller (shutdown). It is safe to call more than once.
func (f *Feed) Close() {
	if f.stop != nil {
		f.stop()
		f.running.Wait()
	}
	f.mu.Lock()
	subs := make([]*Subscription, 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	for _, s := range subs {
		f.end(s, nil)
	}
}

// Memory is the Bus of a single process.
type Memory struct {
	mu      sync.Mutex
	deliver func(eventapi.Event)
}

// Publish implements Bus.
func (m *Memory) Publish(_ context.Context, e eventapi.Event) error {
	m.mu.Lock()
	d := m.deliver
	m.mu.Unlock()
	if d != nil {
		d(e)
	}
	return nil
}

// Listen implements Bus.
func (m *Memory) Listen(ctx context.Context, deliver func(eventapi.Event)) error {
	m.mu.Lock()
	m.deliver = deliver
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		m.deliver = nil
		m.mu.Unlock()
	})
	return nil
}
