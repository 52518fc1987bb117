package entitycache

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestTrackGivesTheHTTPLayerTheReport(t *testing.T) {
	up := newFake()
	c, clk, _ := newCache(t, up, 100)
	if _, err := c.User(context.Background(), "1"); err != nil { // cached now
		t.Fatal(err)
	}
	clk.Advance(7 * time.Second) // past Fresh (5 s): stale
	ctx, freshness := Track(context.Background())
	if _, err := c.User(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	f := freshness()
	if !f.Used || !f.Stale || f.Age != 7*time.Second || f.FreshFor != 0 || !slices.Equal(f.Keys, []string{"user:1"}) {
		t.Errorf("freshness %+v, want used, stale, age 7s, fresh for 0, keys [user:1]", f)
	}
	if _, none := Track(context.Background()); none().Used {
		t.Error("a request that read nothing reported a cache hit")
	}
}
