package eventsvc

import (
	"context"
	"errors"

	"github.com/eventms/gateway/internal/state/eventfeed"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// ErrNoSubscriptions is returned when the service has no feed.
var ErrNoSubscriptions = errors.New("subscriptions are not available")

// EventAdded streams the events added from now on, to userID's user or
// (nil) to anybody, until ctx ends. The stream closes early if the
// subscriber does not keep up (eventfeed.ErrSlowConsumer).
func (s *Service) EventAdded(ctx context.Context, userID *string) (<-chan *eventapi.Event, error) {
	if s.feed == nil {
		return nil, ErrNoSubscriptions
	}
	uid := ""
	if userID != nil {
		uid = *userID
	}
	sub := s.feed.Subscribe(ctx, uid)
	out := make(chan *eventapi.Event)
	go func() {
		defer close(out)
		for e := range sub.C {
			select {
			case out <- &e:
			case <-ctx.Done():
				return
			}
		}
		if errors.Is(sub.Err(), eventfeed.ErrSlowConsumer) {
			s.log.WarnContext(ctx, "eventAdded subscriber dropped: it did not keep up")
		}
	}()
	return out, nil
}

// announce tells subscribers about an event stored through this gateway.
// A lost announcement loses a push, never data: it is not the write's
// failure.
func (s *Service) announce(ctx context.Context, e eventapi.Event) {
	if s.feed == nil {
		return
	}
	if err := s.feed.Publish(context.WithoutCancel(ctx), e); err != nil {
		s.log.WarnContext(ctx, "eventAdded not announced", "event_id", e.ID, "err", err)
	}
}
