package entitycache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// The batched lookups serve an entry past its freshness, within
// stale-if-error, when fetching it again fails, and say so in the request's
// Report; ids never seen get the upstream's failure, each its own.
func TestBatchedLookupsServeStaleIfError(t *testing.T) {
	down := &eventapi.Error{Kind: eventapi.KindUnavailable, Status: 503}
	tests := []struct {
		name    string
		age     time.Duration // of the entries of a and b when the upstream fails
		wantAge time.Duration
	}{
		{"within stale-while-revalidate: stale at once, the refresh fails", 30 * time.Second, 30 * time.Second},
		{"past it, within stale-if-error: the fetch fails", 30 * time.Minute, 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run("events/"+tt.name, func(t *testing.T) {
			up := &batchFake{fakeUpstream: newFake()}
			c, clk, n := newCache(t, up, 100)
			if _, errs := c.EventsByID(context.Background(), []string{"a", "b"}); errs[0] != nil || errs[1] != nil {
				t.Fatal(errs)
			}
			up.set(func(f *fakeUpstream) { f.fail = down })
			clk.Advance(tt.age)
			ctx, rep := WithReport(context.Background())
			es, errs := c.EventsByID(ctx, []string{"a", "new", "b"})
			c.wg.Wait()
			if errs[0] != nil || es[0] == nil || es[0].ID != "a" || errs[2] != nil || es[2] == nil || es[2].ID != "b" {
				t.Errorf("a, b: %v %v; want both, stale", es, errs)
			}
			if !errors.Is(errs[1], down) || es[1] != nil {
				t.Errorf("an id never seen: %v %v; want the upstream's failure", es[1], errs[1])
			}
			if s := rep.Summary(); !s.Used || !s.Stale || s.Age != tt.wantAge || s.FreshFor != 0 {
				t.Errorf("report %+v; want used, stale, age %s", s, tt.wantAge)
			}
			if got := n.stale.Load(); got != 2 {
				t.Errorf("%d stale lookups counted; want 2", got)
			}
			// The entries survive the failure: the next read gets them again.
			clk.Advance(time.Second)
			if es, errs := c.EventsByID(context.Background(), []string{"a"}); errs[0] != nil || es[0].ID != "a" {
				t.Errorf("after the failure: %v %v; want a, still stale", es, errs)
			}
		})
		t.Run("users/"+tt.name, func(t *testing.T) {
			up := newFake()
			c, clk, _ := newCache(t, up, 100)
			if _, errs := c.UsersByID(context.Background(), []string{"1"}); errs[0] != nil {
				t.Fatal(errs)
			}
			up.set(func(f *fakeUpstream) { f.fail = down; f.users["2"] = eventapi.User{ID: "2"} })
			clk.Advance(tt.age)
			ctx, rep := WithReport(context.Background())
			us, errs := c.UsersByID(ctx, []string{"2", "1"})
			c.wg.Wait()
			if errs[1] != nil || us[1] == nil || us[1].UserName != "ann" {
				t.Errorf("user 1: %v %v; want ann, stale", us[1], errs[1])
			}
			if !errors.Is(errs[0], down) {
				t.Errorf("user 2, never seen: %v; want the upstream's failure", errs[0])
			}
			if s := rep.Summary(); !s.Stale || s.Age != tt.wantAge {
				t.Errorf("report %+v; want stale, age %s", s, tt.wantAge)
			}
		})
	}
	t.Run("past stale-if-error: the failure", func(t *testing.T) {
		up := &batchFake{fakeUpstream: newFake()}
		c, clk, _ := newCache(t, up, 100)
		if _, errs := c.EventsByID(context.Background(), []string{"a"}); errs[0] != nil {
			t.Fatal(errs)
		}
		up.set(func(f *fakeUpstream) { f.fail = down })
		clk.Advance(time.Hour) // StaleIfError in newCache
		ctx, rep := WithReport(context.Background())
		if _, errs := c.EventsByID(ctx, []string{"a"}); !errors.Is(errs[0], down) {
			t.Errorf("a, an hour old: %v; want the upstream's failure", errs[0])
		}
		if s := rep.Summary(); s.Stale {
			t.Errorf("report %+v; nothing stale was served", s)
		}
	})
}
