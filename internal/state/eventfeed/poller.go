package eventfeed

import (
	"context"
	"time"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Leaser grants one replica of a fleet the right to poll for a while; the
// holder renews it at every poll. Without one, this replica polls.
type Leaser interface {
	Lease(ctx context.Context, ttl time.Duration) (bool, error)
}

// Poller finds events that other clients added to the upstream by listing
// the upstream's events every Interval, only while this replica has
// subscribers and, in a fleet, only on the replica holding the lease. The
// first list it sees is the baseline: only events added after it count.
type Poller struct {
	Feed     *Feed
	List     func(ctx context.Context) ([]eventapi.Event, error)
	Interval time.Duration
	Lease    Leaser // nil: always this replica
	// OnError, if set, hears failed polls (they are retried next interval).
	OnError func(err error)
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	known := map[string]bool{}
	baseline := false
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		if p.Feed.Subscribers() == 0 {
			// Nobody listens: poll nothing, and forget the baseline, which
			// ages while nobody looks.
			baseline = false
			select {
			case <-ctx.Done():
				return
			case <-p.Feed.active:
			}
		}
		if p.Lease != nil {
			if mine, err := p.Lease.Lease(ctx, 3*p.Interval); err != nil || !mine {
				baseline = false // another replica polls; start afresh if that changes
				if err != nil && p.OnError != nil {
					p.OnError(err)
				}
				goto wait
			}
		}
		if events, err := p.List(ctx); err != nil {
			if p.OnError != nil && ctx.Err() == nil {
				p.OnError(err)
			}
		} else {
			for _, e := range events {
				if !known[e.ID] && baseline {
					_ = p.Feed.Publish(ctx, e)
				}
				known[e.ID] = true
			}
			baseline = true
		}
	wait:
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
