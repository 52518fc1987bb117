// Package eventsvc is the service layer both front doors share: GraphQL
// resolvers and the REST compatibility routes call it, and it decides how
// reads are loaded and how writes reach the upstream.
package eventsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/eventms/gateway/internal/eventsvc/loader"
	"github.com/eventms/gateway/internal/eventsvc/paging"
	"github.com/eventms/gateway/internal/state/eventfeed"
	"github.com/eventms/gateway/internal/state/idempotency"
	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// ErrUserNotFound is returned when a user id is unknown upstream.
var ErrUserNotFound = errors.New("user not found")

// Upstream is what the service needs of the Event API client.
type Upstream interface {
	loader.Source
	User(ctx context.Context, id string) (*eventapi.User, error)
	Users(ctx context.Context) ([]eventapi.User, error)
	Events(ctx context.Context) ([]eventapi.Event, error)
	AddEvent(ctx context.Context, e eventapi.Event) error
}

// Options are the service's settings; the zero value is usable.
type Options struct {
	// Loaders tunes the per-request dataloaders.
	Loaders loader.Options
	// NewID returns a new event id [a UUIDv7 with an "event-" prefix].
	NewID func() string
	// DetailedErrors puts the upstream's own error text (which names its
	// host) in client-facing messages [false: operation and class only].
	DetailedErrors bool
	// Feed carries added events to subscribers [nil: no subscriptions].
	Feed *eventfeed.Feed
	// Authorization is who may do what [off: everybody everything].
	Authorization Authorization
	// WriteCheckRetries bounds the retries of the reads a write depends on
	// (addEvent's user check) [0: one attempt]. It is smaller than a read's
	// budget so that the check cannot spend the request's whole deadline
	// before the write gets its chance.
	WriteCheckRetries int
	// MaxPageSize is the largest first or last a page of a list may ask
	// for [DefaultMaxPageSize]; with neither, a page holds
	// paging.DefaultSize items, or MaxPageSize if that is smaller.
	MaxPageSize int
}

// Service answers reads and writes for both front doors.
type Service struct {
	api               Upstream
	log               *slog.Logger
	loaders           loader.Options
	breaker           *breaker.Breaker
	idempotency       *idempotency.Guard[AddedEvent]
	newID             func() string
	detailedErrors    bool
	writeCheckRetries int
	feed              *eventfeed.Feed
	authz             Authorization
	pages             paging.Limits
}

// New returns a Service over api. br guards addEvent; idem remembers
// addEvent successes by idempotency key.
func New(api Upstream, br *breaker.Breaker, idem *idempotency.Guard[AddedEvent], log *slog.Logger, opt Options) *Service {
	if opt.NewID == nil {
		opt.NewID = newEventID
	}
	if opt.MaxPageSize <= 0 {
		opt.MaxPageSize = DefaultMaxPageSize
	}
	return &Service{api: api, log: log, loaders: opt.Loaders, breaker: br, idempotency: idem,
		newID: opt.NewID, detailedErrors: opt.DetailedErrors, writeCheckRetries: opt.WriteCheckRetries, feed: opt.Feed,
		authz: opt.Authorization, pages: paging.NewLimits(opt.MaxPageSize, maxPageSizeName)}
}

// WithLoaders returns ctx with fresh per-request loaders; call it once per
// incoming request.
func (s *Service) WithLoaders(ctx context.Context) context.Context {
	return loader.WithLoaders(ctx, loader.New(s.api, s.loaders))
}

// loadersFor returns the request's loaders, or fresh ones for a caller
// outside a request.
func (s *Service) loadersFor(ctx context.Context) *loader.Loaders {
	if l := loader.From(ctx); l != nil {
		return l
	}
	return loader.New(s.api, s.loaders)
}

// Users returns every user, and primes the request's user loader with them.
func (s *Service) Users(ctx context.Context) ([]*eventapi.User, error) {
	us, err := s.api.Users(ctx)
	if err != nil {
		return nil, failed(err, "list users")
	}
	l := s.loadersFor(ctx)
	out := make([]*eventapi.User, len(us))
	for i := range us {
		out[i] = &us[i]
		l.Users.Prime(ctx, us[i].ID, out[i])
	}
	return out, nil
}

// User returns the user with id, or nil if the upstream does not know it.
func (s *Service) User(ctx context.Context, id string) (*eventapi.User, error) {
	u, err := s.loadersFor(ctx).Users.Load(ctx, id)()
	if err != nil {
		return nil, failed(err, "get user %q", id)
	}
	return u, nil
}

// Events returns every event, and primes the request's event loader with them.
func (s *Service) Events(ctx context.Context) ([]*eventapi.Event, error) {
	es, err := s.api.Events(ctx)
	if err != nil {
		return nil, failed(err, "list events")
	}
	l := s.loadersFor(ctx)
	out := make([]*eventapi.Event, len(es))
	for i := range es {
		out[i] = &es[i]
		l.Events.Prime(ctx, es[i].ID, out[i])
	}
	return out, nil
}

// Event returns the event with id, or nil if the upstream does not know it.
func (s *Service) Event(ctx context.Context, id string) (*eventapi.Event, error) {
	e, err := s.loadersFor(ctx).Events.Load(ctx, id)()
	if err != nil {
		return nil, failed(err, "get event %q", id)
	}
	return e, nil
}

// EventsOf returns u's events in u's order, fetched together. Ids the
// upstream no longer knows are left out (and logged); any other failure
// fails the whole list, so a caller never mistakes a partial list for a
// complete one.
func (s *Service) EventsOf(ctx context.Context, u *eventapi.User) ([]*eventapi.Event, error) {
	got, err := s.eventsByID(ctx, u.ID, u.Events)
	if err != nil {
		return nil, err
	}
	out := make([]*eventapi.Event, 0, len(got))
	for _, e := range got {
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// EventsByUserID returns the events of the user with id, or ErrUserNotFound.
func (s *Service) EventsByUserID(ctx context.Context, id string) ([]*eventapi.Event, error) {
	u, err := s.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, fmt.Errorf("events of user %q: %w", id, ErrUserNotFound)
	}
	return s.EventsOf(ctx, u)
}

// Owner returns the user an event belongs to, or nil.
func (s *Service) Owner(ctx context.Context, e *eventapi.Event) (*eventapi.User, error) {
	if e.UserID == "" {
		return nil, nil
	}
	return s.User(ctx, e.UserID)
}
