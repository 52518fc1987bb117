package graph_test

import (
	"fmt"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"golang.org/x/sync/errgroup"
)

const userEvents = `{ user(id: "1") { userName events { id name } } }`

func TestCacheOffGoesToTheUpstreamEveryTime(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil) // testConfig turns the cache off
	for i := 0; i < 3; i++ {
		g.Query(t, userEvents, nil)
	}
	if u := g.Sim.Count(eventsim.RouteGetUserByID); u != 3 {
		t.Errorf("%d user lookups for 3 reads with CACHE=off; want 3", u)
	}
}

func TestHundredIdenticalQueriesCostOneCallPerID(t *testing.T) {
	g, _ := graphtest.Cached(t, nil)
	var eg errgroup.Group
	for i := 0; i < 100; i++ {
		eg.Go(func() error {
			res, err := g.TryQuery(userEvents, nil)
			if err == nil && len(res.Errors) > 0 {
				err = fmt.Errorf("%v", res.Errors)
			}
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	if u, e := g.Sim.Count(eventsim.RouteGetUserByID), g.Sim.Count(eventsim.RouteGetEventByID); u != 1 || e != 2 {
		t.Errorf("%d user and %d event lookups for 100 identical queries; want 1 and 2", u, e)
	}
}
