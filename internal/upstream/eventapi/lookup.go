package eventapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/eventms/gateway/internal/upstream/adaptivelimit"
	"github.com/eventms/gateway/internal/upstream/detach"
	"github.com/eventms/gateway/internal/upstream/flight"
)

// User returns the user with id, or ErrNotFound.
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	us, errs := c.UsersByID(ctx, []string{id})
	return us[0], errs[0]
}

// UsersByID looks up each id with its own call (the upstream has no batch
// route), all at once up to the route's limit; see getAll. The results are
// in ids' order, each with its own error; an unknown id is ErrNotFound.
// Callers that shared a call share its user: treat it as read-only.
func (c *Client) UsersByID(ctx context.Context, ids []string) ([]*User, []error) {
	// The original data served user 3 as id 2: what we asked for is what it is.
	return byID(c, ctx, RouteGetUserByID, "/getUserById/", "user", ids, func(u *User, id string) { u.ID = id })
}

// Event returns the event with id, or ErrNotFound.
func (c *Client) Event(ctx context.Context, id string) (*Event, error) {
	es, errs := c.EventsByID(ctx, []string{id})
	return es[0], errs[0]
}

// EventsByID is UsersByID for events.
func (c *Client) EventsByID(ctx context.Context, ids []string) ([]*Event, []error) {
	// The original data served every event as id 1: an event fetched as
	// event-7 is event-7.
	return byID(c, ctx, RouteGetEventByID, "/getEventById/", "event", ids, func(e *Event, id string) { e.ID = id })
}

// byID GETs prefix+id for each id and decodes each answer, once per call
// however many callers share it, into a T whose id is then the one asked
// for.
func byID[T any](c *Client, ctx context.Context, route, prefix, what string, ids []string, setID func(*T, string)) ([]*T, []error) {
	paths := make([]string, len(ids))
	for i, id := range ids {
		paths[i] = prefix + url.PathEscape(id)
	}
	vals, errs := c.getAll(ctx, route, paths, func(i int, body []byte) (any, error) {
		var v *T
		if err := decode(route, body, &v); err != nil || v == nil {
			return nil, err
		}
		setID(v, ids[i])
		return v, nil
	})
	out := make([]*T, len(ids))
	for i, id := range ids {
		if errs[i] != nil {
			continue
		}
		if out[i], _ = vals[i].(*T); out[i] == nil {
			errs[i] = fmt.Errorf("%s %q: %w", what, id, ErrNotFound)
		}
	}
	return out, errs
}

// getOne runs one de-duplicated, retried GET of path and decodes its body
// into a T, once per call however many callers share it.
func getOne[T any](c *Client, ctx context.Context, route, path string) (T, error) {
	vals, errs := c.getAll(ctx, route, []string{path}, func(_ int, body []byte) (any, error) {
		var v T
		err := decode(route, body, &v)
		return v, err
	})
	v, _ := vals[0].(T)
	return v, errs[0]
}

// decode reads a 2xx answer into out. An empty or null body leaves out
// untouched (the upstream's "not found").
func decode(route string, body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Route: route, Kind: KindBadResponse, Status: http.StatusOK, Attempts: 1, Err: err}
	}
	return nil
}

// getAll makes one GET per path on route, and returns what decode made of
// each 2xx answer, in paths' order, each with its own error. decode runs
// once per call, with the index of the path that started it; the callers
// sharing the call share its value.
//
// Identical GETs in flight at the same moment share one call, with three
// exceptions, each keeping apart calls that would otherwise answer for
// one another wrongly. Calls with a smaller retry budget (WithMaxRetries)
// share only among themselves, so a write's check never inherits a read's
// longer budget, nor a read a write's shorter one. A GET that starts after
// this client's AddEvent has returned never joins one that started before
// it, which may not show the write. Calls under a share scope
// (WithShareScope) share only within it.
//
// The calling goroutine takes the route's slots in paths' order and starts
// each call once it has one, so a call waiting for the upstream costs a
// place in the limit's queue, not a goroutine. Every call is announced
// before the first wait, so that other callers can join all of them.
//
// A started call is detached from the caller's cancellation (one caller
// leaving must not fail the others) but keeps its deadline, so it ends by
// then; Close ends it too.
func (c *Client) getAll(ctx context.Context, route string, paths []string, decode func(i int, body []byte) (any, error)) ([]any, []error) {
	retries, suffix := c.cfg.Retry.MaxRetries, ""
	if n, ok := ctx.Value(maxRetriesKey{}).(int); ok && n < retries {
		retries, suffix = n, "\x00retries="+strconv.Itoa(n)
	}
	if w := c.writes.Load(); w > 0 {
		suffix += "\x00writes=" + strconv.FormatUint(w, 10)
	}
	if scope, ok := ctx.Value(shareScopeKey{}).(string); ok {
		suffix += "\x00scope=" + scope
	}
	keys := paths
	if suffix != "" {
		keys = make([]string, len(paths))
		for i, p := range paths {
			keys[i] = p + suffix
		}
	}
	fs := make([]*flight.Call, len(paths))
	var led []int
	for i, k := range keys {
		var lead bool
		if fs[i], lead = c.flights.Join(k); lead {
			led = append(led, i)
		}
	}
	tickets := make([]adaptivelimit.Ticket, len(led))
	c.limits[route].Reserve(tickets)
	for n, i := range led {
		if _, err := tickets[n].Wait(ctx); err != nil {
			// The caller left while waiting. The calls it announced
			// that nobody joined are dropped; the others keep their
			// places and wait for their slots themselves (or end at
			// the deadline that ended this wait).
			for k, j := range led[n:] {
				if c.flights.Abandon(keys[j], fs[j], c.finalError(ctx, route, err, 0)) {
					tickets[n+k].Cancel()
					continue
				}
				go c.fly(ctx, fs[j], route, paths[j], keys[j], retries, &tickets[n+k], decode, j)
			}
			break
		}
		go c.fly(ctx, fs[i], route, paths[i], keys[i], retries, &tickets[n], decode, i)
	}
	return c.await(ctx, route, fs, led)
}

// fly makes the call f (announced under key) stands for, with ticket's
// slot, and lands it with what decode makes of the answer (for path i).
func (c *Client) fly(ctx context.Context, f *flight.Call, route, path, key string, retries int, ticket *adaptivelimit.Ticket,
	decode func(int, []byte) (any, error), i int,
) {
	fctx, cancel := detach.From(c.root, ctx)
	defer cancel()
	var val any
	permit, err := ticket.Wait(fctx)
	if err != nil {
		ticket.Cancel()
		err = c.finalError(fctx, route, err, 0)
	} else {
		var body []byte
		if body, err = c.getWithRetry(fctx, route, path, retries, &permit); err == nil {
			val, err = decode(i, body)
		}
	}
	c.flights.Land(key, f, val, err)
}

// await collects the flights' results until ctx ends; led are the indexes
// of the ones this caller started, the others it shares.
func (c *Client) await(ctx context.Context, route string, fs []*flight.Call, led []int) ([]any, []error) {
	vals, errs := make([]any, len(fs)), make([]error, len(fs))
	mine := 0
	for i, f := range fs {
		lead := mine < len(led) && led[mine] == i
		if lead {
			mine++
		}
		select {
		case <-f.Done():
			vals[i], errs[i] = f.Result()
			if !lead && c.cfg.Hooks.Shared != nil {
				c.cfg.Hooks.Shared(route)
			}
		case <-ctx.Done():
			errs[i] = c.finalError(ctx, route, ctx.Err(), 0)
		}
	}
	return vals, errs
}
