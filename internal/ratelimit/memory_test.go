package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

// A flood of distinct keys, ten times the bound, leaves at most the bound
// held; the keys seen last are still limited.
func TestMemoryStaysBounded(t *testing.T) {
	const bound = 100
	c := &clock{t: time.Unix(0, 0)}
	m, err := NewMemory(Rate{N: 1, Per: time.Hour}, bound, c.now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 * bound {
		if d := allow(t, m, "addr:"+strconv.Itoa(i), 1); !d.Allowed {
			t.Fatalf("new key %d: %+v; want a whole budget", i, d)
		}
		if m.Len() > bound {
			t.Fatalf("after %d keys %d held; want at most %d", i+1, m.Len(), bound)
		}
	}
	if d := allow(t, m, "addr:"+strconv.Itoa(10*bound-1), 1); d.Allowed {
		t.Errorf("the last key again: %+v; want refused (its budget is still held)", d)
	}
}

func TestNewMemoryRefusesNonsense(t *testing.T) {
	if _, err := NewMemory(Rate{}, 10, nil); err == nil {
		t.Error("a zero rate was accepted")
	}
	if _, err := NewMemory(Rate{N: 1, Per: time.Second}, 0, nil); err == nil {
		t.Error("a bound of 0 keys was accepted")
	}
}
