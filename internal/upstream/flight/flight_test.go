package flight

import (
	"errors"
	"testing"
)

func landed(c *Call) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func TestJoinLandAbandon(t *testing.T) {
	var g Group
	a, lead := g.Join("k")
	if !lead || landed(a) {
		t.Fatal("the first caller must lead an open call")
	}
	b, lead := g.Join("k")
	if lead || b != a {
		t.Fatal("a second caller must join the announced call")
	}
	if g.Abandon("k", a, errors.New("left")) || landed(a) {
		t.Fatal("a joined call was abandoned")
	}
	g.Land("k", a, 42, nil)
	if v, err := b.Result(); !landed(b) || v != 42 || err != nil {
		t.Fatalf("joiner got %v, %v", v, err)
	}
	c, lead := g.Join("k")
	if !lead || c == a {
		t.Fatal("after landing, the next caller announces a new call")
	}
	left := errors.New("left")
	if !g.Abandon("k", c, left) || !landed(c) {
		t.Fatal("an unjoined call was not abandoned")
	}
	if _, err := c.Result(); err != left {
		t.Fatalf("abandoned call's error %v", err)
	}
	if d, lead := g.Join("k"); !lead || d == c {
		t.Fatal("after abandoning, the next caller announces a new call")
	}
}
