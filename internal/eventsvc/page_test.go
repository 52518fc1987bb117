package eventsvc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/eventsvc/paging"
	"github.com/eventms/gateway/internal/servicetest"
)

func ptr[T any](v T) *T { return &v }

func TestPageArgumentErrorsAreInvalidInputNamingTheArgument(t *testing.T) {
	env := servicetest.New(t, servicetest.Options{Sim: eventsim.Config{Users: 2, EventsPerUser: 5}})
	ctx := context.Background()
	u1, err := env.Service.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := env.Service.User(ctx, "u2")
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Service.EventsOfPage(u2, paging.Args{First: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	otherUsers := p.PageInfo.EndCursor()
	tests := []struct {
		name      string
		args      paging.Args
		field     string
		wantError string
	}{
		{"first: -1", paging.Args{First: ptr(-1)}, "first", "first: must not be negative"},
		{"first and last", paging.Args{First: ptr(1), Last: ptr(1)}, "last", "last: cannot be given with first: page forward with first and after, or backward with last and before"},
		{"first over MAX_PAGE_SIZE", paging.Args{First: ptr(eventsvc.DefaultMaxPageSize + 1)}, "first", "first: must be at most 100 (MAX_PAGE_SIZE)"},
		{"a cursor of another user's list", paging.Args{After: otherUsers}, "after", "after: cursor is not from this list"},
		{"a tampered cursor", paging.Args{Before: ptr((*otherUsers)[:len(*otherUsers)-2])}, "before", "before: cursor was altered or is not one this API issued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.EventsOfPage(u1, tt.args)
			var invalid *eventsvc.InvalidInputError
			if !errors.As(err, &invalid) || invalid.Field != tt.field || err.Error() != tt.wantError {
				t.Fatalf("error %v, want *InvalidInputError %q", err, tt.wantError)
			}
			f := env.Service.Failure(err)
			if f.Code != eventsvc.CodeInvalidInput || f.Field != tt.field || f.Message != tt.wantError {
				t.Errorf("failure %+v", f)
			}
		})
	}
}

func TestAUsersPageLooksUpOnlyItsEventsAndOnlyWhenAskedFor(t *testing.T) {
	env := servicetest.New(t, servicetest.Options{Sim: eventsim.Config{Users: 1, EventsPerUser: 100}})
	ctx := env.Service.WithLoaders(context.Background())
	u, err := env.Service.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Service.EventsOfPage(u, paging.Args{First: ptr(10), After: ptr(pageOf(t, env, "u1", 39))})
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalCount() != 100 || p.PageInfo.Start != 40 || p.PageInfo.End != 50 {
		t.Fatalf("total %d window [%d, %d), want 100 [40, 50)", p.TotalCount(), p.PageInfo.Start, p.PageInfo.End)
	}
	if n := env.Sim.Count(eventsim.RouteGetEventByID); n != 0 {
		t.Fatalf("%d lookups before the edges were asked for", n)
	}
	edges, err := env.Service.EventEdges(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range edges {
		if want := fmt.Sprintf("u1-e%d", 41+i); e.Node.ID != want || e.Cursor != p.PageInfo.Cursor(40+i) {
			t.Errorf("edge %d: %s, want %s at position %d", i, e.Node.ID, want, 40+i)
		}
	}
	if len(edges) != 10 {
		t.Errorf("%d edges, want 10", len(edges))
	}
	if n := env.Sim.Count(eventsim.RouteGetEventByID); n != 10 {
		t.Errorf("%d lookups, want 10", n)
	}
}

func TestIdsTheUpstreamForgotAreLeftOutOfAPageKeepingPositions(t *testing.T) {
	env := servicetest.New(t, servicetest.Options{Sim: eventsim.Config{Users: 1, EventsPerUser: 30}})
	env.Sim.RemoveEvent("u1-e3")  // inside the first page
	env.Sim.RemoveEvent("u1-e10") // the first page's last position
	ctx := context.Background()
	u, err := env.Service.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Service.EventsOfPage(u, paging.Args{First: ptr(10)})
	if err != nil {
		t.Fatal(err)
	}
	edges, err := env.Service.EventEdges(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range edges {
		ids = append(ids, e.Node.ID)
	}
	if want := "[u1-e1 u1-e2 u1-e4 u1-e5 u1-e6 u1-e7 u1-e8 u1-e9]"; fmt.Sprint(ids) != want {
		t.Errorf("edges %v, want %s", ids, want)
	}
	if p.TotalCount() != 30 {
		t.Errorf("totalCount %d, want the id list's 30", p.TotalCount())
	}
	// The page still ends at its tenth position, so the next page starts
	// at the eleventh: nothing repeated, nothing skipped.
	next, err := env.Service.EventsOfPage(u, paging.Args{First: ptr(10), After: p.PageInfo.EndCursor()})
	if err != nil {
		t.Fatal(err)
	}
	edges, err = env.Service.EventEdges(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(edges) != 10 || edges[0].Node.ID != "u1-e11" {
		t.Errorf("next page starts at %s with %d edges, want u1-e11 with 10", edges[0].Node.ID, len(edges))
	}
}

func TestEventsAndUsersPagesComeFromOneListCall(t *testing.T) {
	env := servicetest.New(t, servicetest.Options{Sim: eventsim.Config{Users: 5, EventsPerUser: 4}})
	first, err := env.Service.EventsPage(context.Background(), paging.Args{First: ptr(4)})
	if err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	ctx := env.Service.WithLoaders(context.Background())
	ep, err := env.Service.EventsPage(ctx, paging.Args{First: ptr(3), After: first.PageInfo.EndCursor()})
	if err != nil {
		t.Fatal(err)
	}
	edges, err := env.Service.EventEdges(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's four events come first, then u1's.
	if len(edges) != 3 || edges[0].Node.ID != "u1-e1" || ep.TotalCount() != 24 || !ep.PageInfo.HasNextPage() {
		t.Fatalf("events page: %d edges from %v, total %d", len(edges), edges[0].Node, ep.TotalCount())
	}
	// The page's events primed the loader: looking one up costs nothing.
	if e, err := env.Service.Event(ctx, "u1-e2"); err != nil || e.ID != "u1-e2" {
		t.Fatal(e, err)
	}
	up, err := env.Service.UsersPage(ctx, paging.Args{Last: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Edges) != 2 || up.Edges[1].Node.ID != "u5" || up.TotalCount() != 8 || up.PageInfo.HasNextPage() || !up.PageInfo.HasPreviousPage() {
		t.Fatalf("users page: %+v total %d", up.Edges, up.TotalCount())
	}
	if u, err := env.Service.User(ctx, "u4"); err != nil || u.ID != "u4" {
		t.Fatal(u, err)
	}
	counts := map[string]int{eventsim.RouteGetEvents: 1, eventsim.RouteGetUsers: 1, eventsim.RouteGetEventByID: 0, eventsim.RouteGetUserByID: 0}
	for route, want := range counts {
		if n := env.Sim.Count(route); n != want {
			t.Errorf("%s: %d calls, want %d", route, n, want)
		}
	}
}

// pageOf returns the cursor of position pos in user id's events, as a
// page that ends there gives it.
func pageOf(t *testing.T, env *servicetest.Env, id string, pos int) string {
	t.Helper()
	u, err := env.Service.User(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Service.EventsOfPage(u, paging.Args{First: ptr(pos + 1)})
	if err != nil {
		t.Fatal(err)
	}
	return *p.PageInfo.EndCursor()
}
