package graph_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// connection is an EventConnection or UserConnection as the wire carries it.
type connection struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct{ ID string }
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (c connection) ids() []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	return out
}

const connectionFields = `totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`

const userEventsPage = `query Page($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  user(id: $id) { eventsConnection(first: $first, after: $after, last: $last, before: $before) { ` + connectionFields + ` } }
}`

// userPage asks for a page of user id's events.
func userPage(t *testing.T, g *graphtest.Gateway, id string, args map[string]any) connection {
	t.Helper()
	vars := map[string]any{"id": id}
	for k, v := range args {
		vars[k] = v
	}
	res := g.Query(t, userEventsPage, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("%v: %+v", args, res.Errors)
	}
	var out struct {
		User struct{ EventsConnection connection }
	}
	servicetest.MustUnmarshal(t, res.Data, &out)
	return out.User.EventsConnection
}

// eventIDsOf returns user u's generated event ids from..to (1-based, inclusive).
func eventIDsOf(u string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s-e%d", u, i))
	}
	return out
}

func TestPageOf20Over1000EventsCosts20Lookups(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 1000}, nil)
	p := userPage(t, g, "u1", map[string]any{"first": 20})
	if !reflect.DeepEqual(p.ids(), eventIDsOf("u1", 1, 20)) {
		t.Errorf("page %v", p.ids())
	}
	if p.TotalCount != 1000 || !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
		t.Errorf("totalCount %d, pageInfo %+v", p.TotalCount, p.PageInfo)
	}
	if *p.PageInfo.StartCursor != p.Edges[0].Cursor || *p.PageInfo.EndCursor != p.Edges[19].Cursor {
		t.Error("startCursor and endCursor are not the first and last edges' cursors")
	}
	counts := map[string]int{eventsim.RouteGetEventByID: 20, eventsim.RouteGetUserByID: 1, eventsim.RouteGetEvents: 0, eventsim.RouteGetUsers: 0}
	for route, want := range counts {
		if n := g.Sim.Count(route); n != want {
			t.Errorf("%s: %d calls, want %d", route, n, want)
		}
	}
}

func TestTotalCountAndPageInfoAloneLookNothingUp(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 1000}, nil)
	res := g.Query(t, `{ user(id: "u1") { eventsConnection(first: 20) { totalCount pageInfo { hasNextPage endCursor } } } }`, nil)
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"totalCount":1000`) {
		t.Fatalf("%s %+v", res.Data, res.Errors)
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 0 {
		t.Errorf("%d getEventById calls, want 0", n)
	}
}

func TestWalkingEveryPageReturnsEveryEventOnceInOrder(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 1000}, nil)
	want := eventIDsOf("u1", 1, 1000)

	var forward []string
	seen := map[string]bool{}
	args := map[string]any{"first": 30}
	for pages := 1; ; pages++ {
		p := userPage(t, g, "u1", args)
		if p.TotalCount != 1000 {
			t.Fatalf("totalCount %d", p.TotalCount)
		}
		for _, e := range p.Edges {
			if seen[e.Cursor] {
				t.Fatalf("cursor %s given twice", e.Cursor)
			}
			seen[e.Cursor] = true
		}
		forward = append(forward, p.ids()...)
		if hasPrev := pages > 1; p.PageInfo.HasPreviousPage != hasPrev {
			t.Errorf("forward page %d: hasPreviousPage %v", pages, p.PageInfo.HasPreviousPage)
		}
		if *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
			t.Fatalf("forward page %d: endCursor is not the last edge's cursor", pages)
		}
		if !p.PageInfo.HasNextPage {
			if pages != 34 || len(p.Edges) != 10 {
				t.Errorf("forward: ended on page %d of %d edges, want page 34 of 10", pages, len(p.Edges))
			}
			break
		}
		if pages > 40 {
			t.Fatal("forward: no last page")
		}
		args["after"] = *p.PageInfo.EndCursor
	}
	if !reflect.DeepEqual(forward, want) {
		t.Fatalf("forward walk: %d ids, not every id once in order", len(forward))
	}

	var backward []string
	args = map[string]any{"last": 45}
	for pages := 1; ; pages++ {
		p := userPage(t, g, "u1", args)
		backward = append(p.ids(), backward...)
		if hasNext := pages > 1; p.PageInfo.HasNextPage != hasNext {
			t.Errorf("backward page %d: hasNextPage %v", pages, p.PageInfo.HasNextPage)
		}
		if *p.PageInfo.StartCursor != p.Edges[0].Cursor {
			t.Fatalf("backward page %d: startCursor is not the first edge's cursor", pages)
		}
		if !p.PageInfo.HasPreviousPage {
			if pages != 23 || len(p.Edges) != 10 || p.Edges[0].Node.ID != "u1-e1" {
				t.Errorf("backward: ended on page %d of %d edges from %s, want page 23 of 10 from u1-e1", pages, len(p.Edges), p.Edges[0].Node.ID)
			}
			break
		}
		if pages > 30 {
			t.Fatal("backward: no first page")
		}
		args["before"] = *p.PageInfo.StartCursor
	}
	if !reflect.DeepEqual(backward, want) {
		t.Fatalf("backward walk: %d ids, not every id once in order", len(backward))
	}
	// Every event was looked up once per page that held it: no page cost
	// more than its own events (the request's loaders are per request).
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 2000 {
		t.Errorf("%d getEventById calls for two walks of 1000, want 2000", n)
	}
}

func TestCursorsAreStableWhenAnEventIsAppended(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 45}, nil)
	first := userPage(t, g, "u1", map[string]any{"first": 20})
	second := userPage(t, g, "u1", map[string]any{"first": 20, "after": *first.PageInfo.EndCursor})
	last := userPage(t, g, "u1", map[string]any{"first": 20, "after": *second.PageInfo.EndCursor})
	if len(last.Edges) != 5 || last.PageInfo.HasNextPage {
		t.Fatalf("last page: %v %+v", last.ids(), last.PageInfo)
	}

	added := g.AddEvent(t, map[string]any{"name": "Appended", "userId": "u1"}, nil)
	if added.Typename != "AddEventSuccess" {
		t.Fatalf("addEvent: %+v", added)
	}

	again := userPage(t, g, "u1", map[string]any{"first": 20})
	if !reflect.DeepEqual(again.Edges, first.Edges) || *again.PageInfo.EndCursor != *first.PageInfo.EndCursor {
		t.Error("the first page's cursors or events changed when an event was appended")
	}
	if again.TotalCount != 46 {
		t.Errorf("totalCount %d, want 46", again.TotalCount)
	}
	more := userPage(t, g, "u1", map[string]any{"first": 20, "after": *last.PageInfo.EndCursor})
	if !reflect.DeepEqual(more.ids(), []string{added.Event.ID}) || more.PageInfo.HasNextPage || !more.PageInfo.HasPreviousPage {
		t.Errorf("after the old last page: %v %+v, want only %s", more.ids(), more.PageInfo, added.Event.ID)
	}
	// Paging back from the new event reaches the old last page's events.
	back := userPage(t, g, "u1", map[string]any{"last": 5, "before": *more.PageInfo.StartCursor})
	if !reflect.DeepEqual(back.Edges, last.Edges) {
		t.Errorf("paging back from the new event: %v, want %v", back.ids(), last.ids())
	}
}

func TestEventsAndUsersConnectionsPageTheListsInOrder(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 30, EventsPerUser: 2}, nil)
	res := g.Query(t, `{
  events: eventsConnection(first: 3, after: null) { `+connectionFields+` }
  users: usersConnection(last: 2) { `+connectionFields+` }
}`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	var got struct{ Events, Users connection }
	servicetest.MustUnmarshal(t, res.Data, &got)
	if !reflect.DeepEqual(got.Events.ids(), []string{"event-1", "event-2", "event-3"}) || got.Events.TotalCount != 64 ||
		!got.Events.PageInfo.HasNextPage || got.Events.PageInfo.HasPreviousPage {
		t.Errorf("events: %v %d %+v", got.Events.ids(), got.Events.TotalCount, got.Events.PageInfo)
	}
	if !reflect.DeepEqual(got.Users.ids(), []string{"u29", "u30"}) || got.Users.TotalCount != 33 ||
		got.Users.PageInfo.HasNextPage || !got.Users.PageInfo.HasPreviousPage {
		t.Errorf("users: %v %d %+v", got.Users.ids(), got.Users.TotalCount, got.Users.PageInfo)
	}
	next := g.Query(t, `query($after: String) { eventsConnection(first: 2, after: $after) { `+connectionFields+` } }`,
		map[string]any{"after": *got.Events.PageInfo.EndCursor})
	var page struct{ EventsConnection connection }
	servicetest.MustUnmarshal(t, next.Data, &page)
	if !reflect.DeepEqual(page.EventsConnection.ids(), []string{"event-4", "u1-e1"}) {
		t.Errorf("next events page: %v %+v", page.EventsConnection.ids(), next.Errors)
	}
	counts := map[string]int{eventsim.RouteGetEvents: 2, eventsim.RouteGetUsers: 1, eventsim.RouteGetEventByID: 0, eventsim.RouteGetUserByID: 0}
	for route, want := range counts {
		if n := g.Sim.Count(route); n != want {
			t.Errorf("%s: %d calls, want %d", route, n, want)
		}
	}
}

func TestBadPageArgumentsAreBadUserInputNamingTheArgument(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 2, EventsPerUser: 30}, nil)
	otherUser := *userPage(t, g, "u2", map[string]any{"first": 3}).PageInfo.EndCursor
	mine := *userPage(t, g, "u1", map[string]any{"first": 3}).PageInfo.EndCursor
	res := g.Query(t, `{ eventsConnection(first: 1) { pageInfo { endCursor } } usersConnection(first: 1) { pageInfo { endCursor } } }`, nil)
	var lists struct {
		EventsConnection, UsersConnection struct{ PageInfo struct{ EndCursor string } }
	}
	servicetest.MustUnmarshal(t, res.Data, &lists)
	allEvents, allUsers := lists.EventsConnection.PageInfo.EndCursor, lists.UsersConnection.PageInfo.EndCursor
	g.Sim.ResetStats()

	tests := []struct {
		name  string
		field string // "user" (User.eventsConnection), "events" or "users" (Query)
		args  map[string]any
		want  string
	}{
		{"first: -1", "user", map[string]any{"first": -1}, "first: must not be negative"},
		{"last: -1", "events", map[string]any{"last": -1}, "last: must not be negative"},
		{"first and last", "user", map[string]any{"first": 5, "last": 5}, "last: cannot be given with first"},
		{"first over MAX_PAGE_SIZE", "user", map[string]any{"first": 101}, "first: must be at most 100 (MAX_PAGE_SIZE)"},
		{"last over MAX_PAGE_SIZE", "users", map[string]any{"last": 1000}, "last: must be at most 100 (MAX_PAGE_SIZE)"},
		{"a cursor of another user's events", "user", map[string]any{"first": 5, "after": otherUser}, "after: cursor is not from this list"},
		{"a cursor of every event, on a user's", "user", map[string]any{"after": allEvents}, "after: cursor is not from this list"},
		{"a user's cursor, on every event", "events", map[string]any{"before": mine}, "before: cursor is not from this list"},
		{"a cursor of the users, on the events", "events", map[string]any{"after": allUsers}, "after: cursor is not from this list"},
		{"a tampered cursor", "user", map[string]any{"after": mine[:len(mine)-3] + "AAA"}, "after: cursor was altered or is not one this API issued"},
		{"a truncated cursor", "users", map[string]any{"before": allUsers[:len(allUsers)-4]}, "before: cursor was altered or is not one this API issued"},
		{"malformed base64", "user", map[string]any{"after": "%%% not base64 %%%"}, "after: malformed cursor (not base64url)"},
	}
	queries := map[string]struct {
		query string
		path  []any
	}{
		"user":   {`query($first: Int, $after: String, $last: Int, $before: String) { user(id: "u1") { id eventsConnection(first: $first, after: $after, last: $last, before: $before) { totalCount edges { node { id } } } } }`, []any{"user", "eventsConnection"}},
		"events": {`query($first: Int, $after: String, $last: Int, $before: String) { eventsConnection(first: $first, after: $after, last: $last, before: $before) { totalCount } }`, []any{"eventsConnection"}},
		"users":  {`query($first: Int, $after: String, $last: Int, $before: String) { usersConnection(first: $first, after: $after, last: $last, before: $before) { totalCount } }`, []any{"usersConnection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queries[tt.field]
			res := g.Query(t, q.query, tt.args)
			if len(res.Errors) != 1 {
				t.Fatalf("errors %+v, want one", res.Errors)
			}
			e := res.Errors[0]
			if e.Extensions["code"] != "BAD_USER_INPUT" || !strings.HasPrefix(e.Message, tt.want) || !reflect.DeepEqual(e.Path, q.path) {
				t.Errorf("error %q %v at %v, want BAD_USER_INPUT %q at %v", e.Message, e.Extensions["code"], e.Path, tt.want, q.path)
			}
		})
	}
	if n := g.Sim.Count(eventsim.RouteGetEventByID); n != 0 {
		t.Errorf("%d getEventById calls for refused pages", n)
	}
}

func TestComplexityPricesAConnectionAtItsPageSize(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 200}, func(c *config.Config) { c.GraphQL.MaxComplexity = 100 })
	// user (1) + the connection: its page size × edges { node { id } } (3).
	tests := []struct {
		page string
		cost int // 0: within the limit
	}{
		{"first: 5", 0},
		{"last: 33", 0},
		{"", 0}, // the default 20: 61
		{"first: 34", 103},
		{"last: 50", 151},
		{"first: 100000", 301}, // priced at MAX_PAGE_SIZE (and refused by the limit before its argument is checked)
	}
	for _, tt := range tests {
		args := ""
		if tt.page != "" {
			args = "(" + tt.page + ")"
		}
		res := g.Query(t, `{ user(id: "u1") { eventsConnection`+args+` { edges { node { id } } } } }`, nil)
		switch {
		case tt.cost == 0 && len(res.Errors) > 0:
			t.Errorf("%q: %+v", tt.page, res.Errors)
		case tt.cost > 0 && (len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" ||
			!strings.Contains(res.Errors[0].Message, fmt.Sprintf("complexity %d,", tt.cost))):
			t.Errorf("%q: %+v, want complexity %d refused", tt.page, res.Errors, tt.cost)
		}
	}
}

func TestAPageHoldingAnEmailIsCachedPrivately(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	for query, want := range map[string]string{
		`{ usersConnection(first: 2) { edges { node { id email } } } }`:                                    "private, no-cache",
		`{ usersConnection(first: 2) { totalCount edges { cursor node { id userName } } } }`:               "no-cache",
		`{ user(id: "1") { eventsConnection { edges { node { id user { email } } } } } }`:                  "private, no-cache",
		`{ eventsConnection(last: 1) { pageInfo { hasPreviousPage startCursor } edges { node { id } } } }`: "no-cache",
	} {
		resp, body := servicetest.Do(t, "GET", g.URL+"/graphql?query="+url.QueryEscape(query), "", "", map[string]string{"Apollo-Require-Preflight": "true"})
		if got := resp.Header.Get("Cache-Control"); got != want || resp.StatusCode != 200 {
			t.Errorf("%s: %d Cache-Control %q, want %q (%s)", query, resp.StatusCode, got, want, body)
		}
	}
}

func TestAnUpstreamFailureInAPageIsAnErrorOnItsEdges(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{Users: 1, EventsPerUser: 30}, nil)
	g.Sim.FailEvent("u1-e25", http.StatusInternalServerError, -1)
	first := userPage(t, g, "u1", map[string]any{"first": 20})
	if len(first.Edges) != 20 {
		t.Fatalf("the page without the failing event: %d edges", len(first.Edges))
	}
	res := g.Query(t, userEventsPage, map[string]any{"id": "u1", "first": 10, "after": *first.PageInfo.EndCursor})
	if len(res.Errors) != 1 {
		t.Fatalf("errors %+v, want one", res.Errors)
	}
	e := res.Errors[0]
	if e.Extensions["code"] != "UPSTREAM_UNAVAILABLE" || !reflect.DeepEqual(e.Path, []any{"user", "eventsConnection", "edges"}) {
		t.Errorf("error %q %v at %v, want UPSTREAM_UNAVAILABLE at [user eventsConnection edges]", e.Message, e.Extensions["code"], e.Path)
	}
	// edges and the connection are non-null: the error nulls the user.
	if string(res.Data) != `{"user":null}` {
		t.Errorf("data %s", res.Data)
	}
}
