package respcache

import (
	"slices"
	"strings"
	"testing"
)

func kept(key string, bodyLen int, tags ...string) *entry {
	e := &entry{key: key, body: []byte(strings.Repeat("x", bodyLen)), tags: tags}
	e.size = size(e)
	return e
}

func keys(s *store) []string {
	var out []string
	for el := s.order.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*entry).key)
	}
	return out
}

// The store holds what fits its bytes, dropping the least recently used,
// and keeps its byte count exact through replacement, eviction and purge.
func TestStoreIsBoundedInBytesLeastRecentlyUsedFirst(t *testing.T) {
	one := kept("a", 1000).size
	evicted := 0
	s := newStore(3*one, func() { evicted++ })
	for _, k := range []string{"a", "b", "c"} {
		if !s.put(kept(k, 1000), s.epoch.Load()) {
			t.Fatalf("put %s refused under the budget", k)
		}
	}
	s.get("a") // a is now the most recently used; b the least
	s.put(kept("d", 1000), s.epoch.Load())
	if got := strings.Join(keys(s), ","); got != "d,a,c" {
		t.Errorf("kept %s; want d,a,c (b, least recently used, evicted)", got)
	}
	if evicted != 1 || s.bytes != 3*one {
		t.Errorf("evicted %d, bytes %d; want 1 and %d", evicted, s.bytes, 3*one)
	}
	s.put(kept("a", 1000), s.epoch.Load()) // replacing a does not count it twice
	if s.bytes != 3*one || len(s.byKey) != 3 {
		t.Errorf("after replacing a: bytes %d, %d entries; want %d, 3", s.bytes, len(s.byKey), 3*one)
	}
	big := kept("big", int(3*one))
	if s.put(big, s.epoch.Load()) {
		t.Error("an entry larger than the whole budget was kept")
	}
	if len(s.byKey) != 3 {
		t.Errorf("a refused entry evicted others: %v", keys(s))
	}
	large := kept("large", int(2*one)) // fits alone: everything else goes
	s.put(large, s.epoch.Load())
	if got := strings.Join(keys(s), ","); got != "large" || s.bytes != large.size {
		t.Errorf("kept %s (%d bytes); want only large (%d)", got, s.bytes, large.size)
	}
}

// A purge removes what is tagged with any of its tags and nothing else,
// "*" removes everything, and a read from before a purge cannot store.
func TestStorePurgesByTagAndMovesTheEpoch(t *testing.T) {
	tests := []struct {
		name  string
		purge []string
		n     int
		left  string
	}{
		{"one user", []string{"user:1"}, 2, "list"},
		{"the list", []string{"users"}, 1, "u1events,u1"},
		{"two tags, one entry under both", []string{"user:1", "users"}, 3, ""},
		{"an unused tag", []string{"event:9"}, 0, "list,u1events,u1"},
		{"everything", []string{"*"}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(1<<20, nil)
			s.put(kept("u1", 10, "user:1"), 0)
			s.put(kept("u1events", 10, "user:1", "events"), 0)
			s.put(kept("list", 10, "users"), 0)
			if n := s.purge(tt.purge); n != tt.n {
				t.Errorf("purged %d; want %d", n, tt.n)
			}
			if got := strings.Join(keys(s), ","); got != tt.left {
				t.Errorf("left %q; want %q", got, tt.left)
			}
			var want int64
			for _, e := range s.byKey {
				want += e.size
			}
			if s.bytes != want {
				t.Errorf("bytes %d; want %d", s.bytes, want)
			}
			for tag, list := range s.byTag {
				for i, e := range list {
					if s.byKey[e.key] != e {
						t.Errorf("tag %s still indexes the removed %s", tag, e.key)
					}
					if e.tagAt[slices.Index(e.tags, tag)] != i {
						t.Errorf("%s's place under %s is %v; it is at %d", e.key, tag, e.tagAt, i)
					}
				}
			}
			if s.put(kept("late", 10, "users"), 0) {
				t.Error("an answer built before the purge was stored after it")
			}
			if !s.put(kept("late", 10, "users"), s.epoch.Load()) {
				t.Error("an answer built after the purge was refused")
			}
		})
	}
}

func TestANilCachePurgesNothing(t *testing.T) {
	var c *Cache
	if n := c.Purge("*"); n != 0 {
		t.Errorf("a nil cache purged %d answers", n)
	}
}
