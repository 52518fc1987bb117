package eventsvc

import (
	"context"
	"errors"

	"github.com/eventms/gateway/internal/eventsvc/loader"
	"github.com/eventms/gateway/internal/eventsvc/paging"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// DefaultMaxPageSize is Options.MaxPageSize's default.
const DefaultMaxPageSize = 100

// maxPageSizeName names the setting behind the page size limit in the
// errors clients see.
const maxPageSizeName = "MAX_PAGE_SIZE"

// The lists a cursor can belong to. A user's events are one list per user.
const (
	listUsers  = "users"
	listEvents = "events"
)

func userEventsList(userID string) string { return "user/" + userID + "/events" }

// EventPage is one page of a list of events: where it lies in its list
// (PageInfo) and what it holds, loaded when its edges are asked for, so a
// client that asks only for totalCount or pageInfo costs no lookup.
type EventPage struct {
	PageInfo paging.Window
	// owner and ids: a user's page, its ids still to load.
	owner string
	ids   []string
	// events: a page of a whole list, loaded with it; never nil, so that
	// EventEdges can tell the two kinds apart.
	events []*eventapi.Event
}

// TotalCount is the length of the whole list: for a user's events, the ids
// the user record lists, including any the upstream no longer knows.
func (p *EventPage) TotalCount() int { return p.PageInfo.Total }

// EventEdge is an event of a page and its cursor.
type EventEdge struct {
	Cursor string
	Node   *eventapi.Event
}

// UserPage is one page of the users.
type UserPage struct {
	PageInfo paging.Window
	Edges    []*UserEdge
}

// TotalCount is how many users there are.
func (p *UserPage) TotalCount() int { return p.PageInfo.Total }

// UserEdge is a user of a page and its cursor.
type UserEdge struct {
	Cursor string
	Node   *eventapi.User
}

// PageLimits are the bounds the service's pages keep, for a caller that
// prices a page before asking for it (a complexity limit).
func (s *Service) PageLimits() paging.Limits { return s.pages }

// page applies args to a list of total items, the argument errors made
// *InvalidInputError.
func (s *Service) page(list string, total int, args paging.Args) (paging.Window, error) {
	w, err := s.pages.Page(list, total, args)
	var ae *paging.ArgError
	if errors.As(err, &ae) {
		return w, &InvalidInputError{Field: ae.Arg, Reason: ae.Reason}
	}
	return w, err
}

// EventsOfPage returns the page of u's events args select. It costs no
// upstream call: the ids come from the user record, and only the page's
// are looked up, when EventEdges is called.
func (s *Service) EventsOfPage(u *eventapi.User, args paging.Args) (*EventPage, error) {
	w, err := s.page(userEventsList(u.ID), len(u.Events), args)
	if err != nil {
		return nil, err
	}
	return &EventPage{PageInfo: w, owner: u.ID, ids: u.Events[w.Start:w.End]}, nil
}

// EventsPage returns the page of every event that args select, in the
// upstream's order. The upstream lists events only whole, so the list is
// fetched (the entity cache holds it) and paged here; the page's events
// prime the request's loader.
func (s *Service) EventsPage(ctx context.Context, args paging.Args) (*EventPage, error) {
	es, err := s.api.Events(ctx)
	if err != nil {
		return nil, failed(err, "list events")
	}
	w, err := s.page(listEvents, len(es), args)
	if err != nil {
		return nil, err
	}
	l := s.loadersFor(ctx)
	out := make([]*eventapi.Event, 0, w.Len())
	for i := w.Start; i < w.End; i++ {
		out = append(out, &es[i])
		l.Events.Prime(ctx, es[i].ID, &es[i])
	}
	return &EventPage{PageInfo: w, events: out}, nil
}

// EventEdges returns the page's events with their cursors, in list order.
// A user's page loads its ids together (one round trip's time, one lookup
// per id at most); ids the upstream no longer knows are left out, as
// EventsOf leaves them out, so such a page holds fewer edges than
// positions, and any other failure fails the page.
func (s *Service) EventEdges(ctx context.Context, p *EventPage) ([]*EventEdge, error) {
	es := p.events
	if es == nil { // a user's page: look its ids up
		var err error
		if es, err = s.eventsByID(ctx, p.owner, p.ids); err != nil {
			return nil, err
		}
	}
	out := make([]*EventEdge, 0, len(es))
	for i, e := range es {
		if e != nil {
			out = append(out, &EventEdge{Cursor: p.PageInfo.Cursor(p.PageInfo.Start + i), Node: e})
		}
	}
	return out, nil
}

// UsersPage returns the page of users args select, in the upstream's
// order: the list is fetched whole (the entity cache holds it) and paged
// here; the page's users prime the request's loader.
func (s *Service) UsersPage(ctx context.Context, args paging.Args) (*UserPage, error) {
	us, err := s.api.Users(ctx)
	if err != nil {
		return nil, failed(err, "list users")
	}
	w, err := s.page(listUsers, len(us), args)
	if err != nil {
		return nil, err
	}
	l := s.loadersFor(ctx)
	p := &UserPage{PageInfo: w, Edges: make([]*UserEdge, 0, w.Len())}
	for i := w.Start; i < w.End; i++ {
		p.Edges = append(p.Edges, &UserEdge{Cursor: w.Cursor(i), Node: &us[i]})
		l.Users.Prime(ctx, us[i].ID, &us[i])
	}
	return p, nil
}

// eventsByID looks up the events of the user owner with these ids
// together, in order; an id the upstream no longer knows is nil (and
// logged), any other failure fails them all, so that a caller never
// mistakes a partial list for a complete one.
func (s *Service) eventsByID(ctx context.Context, owner string, ids []string) ([]*eventapi.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	got, errs := loader.LoadAll(ctx, s.loadersFor(ctx).Events, ids)
	for i, err := range errs {
		if err != nil {
			return nil, failed(err, "events of user %q: get event %q", owner, ids[i])
		}
	}
	for i, e := range got {
		if e == nil {
			s.log.WarnContext(ctx, "event listed by user is unknown upstream; left out",
				"user_id", owner, "event_id", ids[i])
		}
	}
	return got, nil
}
