package adaptivelimit

import (
	"context"
	"testing"
	"time"
)

// How far refusals cut the limit, exactly: once a window holds MinSamples
// finished calls of which at least two, and at least a tenth, were refused,
// the limit becomes floor(0.9 × min(limit, the fewest calls in flight when
// a refused call started)), within [Min, Max]; calls that started before
// the cut teach the next window nothing.
func TestRefusalsCutTheLimitExactly(t *testing.T) {
	type done struct {
		from, to int // permits from..to (1-based: the n-th started with n in flight)
		o        Outcome
	}
	tests := []struct {
		name     string
		min, max int
		started  int
		done     []done
		want     int
	}{
		{"ten refusals at the top: 0.9 × 91", 8, 1024, 100,
			[]done{{91, 100, Overloaded}}, 81},
		{"the fewest in flight among the refused counts", 8, 1024, 100,
			[]done{{1, 8, Answered}, {95, 95, Overloaded}, {40, 40, Overloaded}}, 36},
		{"calls started before the cut teach nothing", 8, 1024, 100,
			[]done{{91, 100, Overloaded}, {1, 90, Overloaded}}, 81},
		{"one refusal is the network, not load", 8, 1024, 100,
			[]done{{1, 9, Answered}, {100, 100, Overloaded}, {10, 30, Answered}}, 1024},
		{"two refusals in twenty: a tenth", 8, 1024, 100,
			[]done{{1, 18, Answered}, {50, 50, Overloaded}, {60, 60, Overloaded}}, 45},
		{"two refusals in twenty-one: under a tenth", 8, 1024, 100,
			[]done{{1, 19, Answered}, {50, 50, Overloaded}, {60, 60, Overloaded}}, 1024},
		{"fewer than MinSamples finished: no decision yet", 8, 1024, 100,
			[]done{{92, 100, Overloaded}}, 1024},
		{"never below Min", 8, 1024, 12,
			[]done{{3, 10, Answered}, {1, 2, Overloaded}}, 8},
		{"a fixed limit does not move", 64, 64, 64,
			[]done{{55, 64, Overloaded}}, 64},
		{"ignored calls are not samples", 8, 1024, 100,
			[]done{{1, 20, Ignore}, {99, 100, Overloaded}, {21, 27, Answered}}, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Unix(0, 0)}
			l := newLimiter(c, Config{Min: tt.min, Max: tt.max})
			ps := make([]Permit, tt.started)
			for i := range ps {
				p, err := l.Acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if p.inFlight != i+1 {
					t.Fatalf("permit %d started with %d in flight", i+1, p.inFlight)
				}
				ps[i] = p
			}
			// The answers come back a millisecond later: well within
			// MinWindow, so only refusals can close the window.
			c.advance(time.Millisecond)
			for _, d := range tt.done {
				for n := d.from; n <= d.to; n++ {
					ps[n-1].Done(d.o)
					ps[n-1] = Permit{}
				}
			}
			if got := l.Limit(); got != tt.want {
				t.Errorf("limit %d; want %d", got, tt.want)
			}
			for _, p := range ps {
				p.Done(Ignore)
			}
		})
	}
}
