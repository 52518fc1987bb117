package doccache

import (
	"strings"
	"testing"
)

func textLRU(l Limits) *LRU[string] { return NewLRU(l, TextSize) }

func TestLRUEvictsTheLeastRecentlyUsedUntilTheBytesFit(t *testing.T) {
	entry := TextSize("k0", strings.Repeat("x", 100)) // every entry below is this size
	c := textLRU(Limits{MaxBytes: 3 * entry})
	for _, k := range []string{"k0", "k1", "k2"} {
		c.Add(k, strings.Repeat("x", 100))
	}
	c.Get("k0") // k1 is now the least recently used
	c.Add("k3", strings.Repeat("x", 100))
	for k, want := range map[string]bool{"k0": true, "k1": false, "k2": true, "k3": true} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("%s held: %v, want %v", k, ok, want)
		}
	}
	if c.Bytes() != 3*entry || c.Len() != 3 {
		t.Errorf("%d bytes in %d entries, want %d in 3", c.Bytes(), c.Len(), 3*entry)
	}
	// One large entry pushes out as many small ones as it needs.
	c.Add("big", strings.Repeat("y", int(2*entry)))
	if c.Bytes() > 3*entry || c.Len() != 1 {
		t.Errorf("%d bytes in %d entries after a large one; want it alone within %d", c.Bytes(), c.Len(), 3*entry)
	}
}

func TestLRUBounds(t *testing.T) {
	doc := func(n int) string { return strings.Repeat("d", n) }
	tests := []struct {
		name      string
		limits    Limits
		add       []int // document lengths, under keys k0, k1, ...
		wantLen   int
		wantBytes int64
	}{
		{"an entry over MaxEntryBytes is not kept", Limits{MaxBytes: 10000, MaxEntryBytes: 500}, []int{100, 400, 100}, 2, 2 * TextSize("k0", doc(100))},
		{"an entry over MaxBytes is not kept", Limits{MaxBytes: 1000}, []int{100, 5000}, 1, TextSize("k0", doc(100))},
		{"MaxEntries bounds the count too", Limits{MaxBytes: 1 << 20, MaxEntries: 2}, []int{10, 10, 10}, 2, 2 * TextSize("k0", doc(10))},
		{"the bytes are a hard bound", Limits{MaxBytes: 1000}, []int{300, 300, 300, 300, 300}, 2, 2 * TextSize("k0", doc(300))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := textLRU(tt.limits)
			for i, n := range tt.add {
				c.Add("k"+string(rune('0'+i)), doc(n))
			}
			if c.Len() != tt.wantLen || c.Bytes() != tt.wantBytes {
				t.Errorf("%d entries, %d bytes; want %d, %d", c.Len(), c.Bytes(), tt.wantLen, tt.wantBytes)
			}
		})
	}
}

func TestLRUReplacingAKeyKeepsTheAccountExact(t *testing.T) {
	c := textLRU(Limits{MaxBytes: 10000, MaxEntryBytes: 1000})
	c.Add("k", strings.Repeat("a", 500))
	c.Add("k", strings.Repeat("b", 100))
	if v, _ := c.Get("k"); v != strings.Repeat("b", 100) || c.Bytes() != TextSize("k", v) {
		t.Errorf("after replacing: %d bytes, value %.3q…", c.Bytes(), v)
	}
	// A replacement too large to keep drops the old value rather than
	// leaving it to answer for the key.
	if c.Add("k", strings.Repeat("c", 2000)) {
		t.Error("an entry over MaxEntryBytes was kept")
	}
	if _, ok := c.Get("k"); ok || c.Bytes() != 0 {
		t.Errorf("after a replacement too large: held %v, %d bytes", ok, c.Bytes())
	}
}
