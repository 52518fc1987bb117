package adaptivelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

func fixed(n int) *Limiter { return New(Config{Min: n, Max: n}) }

// A caller with many calls reserves all their places at once: calls
// reserved later come after every one of them.
func TestReserveKeepsArrivalOrderForEveryCall(t *testing.T) {
	l := fixed(1)
	a := make([]Ticket, 3)
	l.Reserve(a) // a[0] has the free slot, a[1] and a[2] wait
	b := make([]Ticket, 2)
	l.Reserve(b)
	if s := l.Snapshot(); s.InFlight != 1 || s.Waiting != 4 {
		t.Fatalf("after two reservations: %+v, want 1 in flight and 4 waiting", s)
	}
	var order []string
	take := func(name string, tk *Ticket) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p, err := tk.Wait(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		order = append(order, name)
		p.Done(Answered)
	}
	take("a0", &a[0])
	take("a1", &a[1])
	take("a2", &a[2])
	take("b0", &b[0])
	take("b1", &b[1])
	want := []string{"a0", "a1", "a2", "b0", "b1"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if s := l.Snapshot(); s.InFlight != 0 || s.Waiting != 0 {
		t.Errorf("at the end: %+v, want nothing in flight or waiting", s)
	}
}

// A Wait that ends with its context keeps the ticket's place; Cancel gives
// the place up, or the slot if it was granted meanwhile.
func TestTicketWaitAndCancel(t *testing.T) {
	l := fixed(1)
	ts := make([]Ticket, 3)
	l.Reserve(ts)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ts[1].Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on an ended context: %v, want canceled", err)
	}
	if s := l.Snapshot(); s.Waiting != 2 {
		t.Fatalf("a failed wait gave up its place: %+v", s)
	}
	ts[2].Cancel() // a place in the queue
	if s := l.Snapshot(); s.Waiting != 1 {
		t.Fatalf("cancel left the place: %+v", s)
	}
	p, err := ts[0].Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Done(Answered) // grants ts[1] its slot
	if s := l.Snapshot(); s.InFlight != 1 || s.Waiting != 0 {
		t.Fatalf("after the first call: %+v, want the second granted", s)
	}
	ts[1].Cancel() // a granted slot nobody took
	ts[1].Cancel() // twice is harmless
	if s := l.Snapshot(); s.InFlight != 0 || s.Waiting != 0 {
		t.Fatalf("cancel kept the slot: %+v", s)
	}
	free := make([]Ticket, 1)
	l.Reserve(free)
	q, err := free[0].Wait(ctx) // a free slot is granted even to an ended context
	if err != nil {
		t.Fatal(err)
	}
	if again, err := free[0].Wait(context.Background()); err != nil || again != q {
		t.Fatalf("a second wait: %+v, %v; want the same slot", again, err)
	}
	free[0].Cancel() // after Wait returned the slot: the permit owns it
	if s := l.Snapshot(); s.InFlight != 1 {
		t.Fatalf("cancel after a successful wait released the slot: %+v", s)
	}
	q.Done(Answered)
}
