package eventapi

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/testwait"
)

// A GET that starts after a write has been answered never joins a GET
// that started before it: it makes its own call, and sees the write.
func TestAGetAfterAWriteDoesNotJoinOneFromBefore(t *testing.T) {
	tests := []struct {
		route string
		read  func(c *Client) (bool, error) // whether the answer shows the new event
	}{
		{eventsim.RouteGetEvents, func(c *Client) (bool, error) {
			es, err := c.Events(context.Background())
			return slices.ContainsFunc(es, func(e Event) bool { return e.ID == "new" }), err
		}},
		{eventsim.RouteGetUsers, func(c *Client) (bool, error) {
			us, err := c.Users(context.Background())
			return slices.ContainsFunc(us, func(u User) bool { return u.ID == "1" && slices.Contains(u.Events, "new") }), err
		}},
		{eventsim.RouteGetUserByID, func(c *Client) (bool, error) {
			u, err := c.User(context.Background(), "1")
			return err == nil && slices.Contains(u.Events, "new"), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			sim, url := simServer(t, eventsim.Config{})
			// Attempts never time out here: the held call stays the one in flight.
			c := newClient(t, url, func(c *Config) { c.Timeout = time.Minute })
			hold := sim.HoldNext(tt.route)
			defer hold.Release()
			before := make(chan bool, 1)
			go func() { seen, _ := tt.read(c); before <- seen }()
			testwait.Recv(t, hold.Arrived(), "the first read's call")
			if err := c.AddEvent(context.Background(), Event{ID: "new", Name: "n", UserID: "1"}); err != nil {
				t.Fatal(err)
			}
			after := make(chan bool, 1)
			go func() { seen, _ := tt.read(c); after <- seen }()
			if seen := testwait.Recv(t, after, "the read after the write (it must not wait for the held call)"); !seen {
				t.Error("the read after the write lacks the new event")
			}
			select {
			case <-hold.Answered():
				t.Fatal("the held call was answered before its release")
			default:
			}
			hold.Release()
			if seen := testwait.Recv(t, before, "the read before the write"); seen {
				t.Error("the held answer, made before the write, shows the event: the test holds nothing")
			}
			if n := sim.Count(tt.route); n != 2 {
				t.Errorf("%d calls; want 2 (the read after the write made its own)", n)
			}
		})
	}
}

// Identical GETs in the same share scope share a call; in different
// scopes, or with different retry budgets, they do not.
func TestShareScopesKeepCallsApart(t *testing.T) {
	sim, url := simServer(t, eventsim.Config{})
	c := newClient(t, url, nil)
	hold := sim.HoldNext(eventsim.RouteGetUsers)
	defer hold.Release()
	a := WithShareScope(context.Background(), "a")
	done := make(chan error, 2)
	go func() { _, err := c.Users(a); done <- err }()
	testwait.Recv(t, hold.Arrived(), "scope a's call")
	waiting := make(chan struct{}, 1)
	go func() { _, err := c.Users(testwait.WaitingContext(a, waiting)); done <- err }()
	testwait.Recv(t, waiting, "a second read in scope a to wait for the first's call")
	for _, ctx := range []context.Context{
		WithShareScope(context.Background(), "b"),
		context.Background(),
		WithMaxRetries(a, 0),
	} {
		if _, err := c.Users(ctx); err != nil { // not held: a call of its own
			t.Fatal(err)
		}
	}
	hold.Release()
	for range 2 {
		if err := testwait.Recv(t, done, "the reads in scope a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.Count(eventsim.RouteGetUsers); n != 4 {
		t.Errorf("%d calls; want 4 (scope a's shared one, then b, none, a with another budget)", n)
	}
}

// ShareKey tells apart the contexts whose GETs the client keeps apart.
func TestShareKey(t *testing.T) {
	bg := context.Background()
	keys := map[string]string{
		"plain":              ShareKey(bg),
		"scope a":            ShareKey(WithShareScope(bg, "a")),
		"scope b":            ShareKey(WithShareScope(bg, "b")),
		"no retries":         ShareKey(WithMaxRetries(bg, 0)),
		"one retry":          ShareKey(WithMaxRetries(bg, 1)),
		"scope a, one retry": ShareKey(WithMaxRetries(WithShareScope(bg, "a"), 1)),
	}
	seen := map[string]string{}
	for name, k := range keys {
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s have the same share key %q", name, other, k)
		}
		seen[k] = name
	}
	if keys["plain"] != "" {
		t.Errorf("a plain context's share key is %q; want empty", keys["plain"])
	}
	if ShareKey(WithShareScope(bg, "a")) != keys["scope a"] {
		t.Error("the same scope gives another key")
	}
}
