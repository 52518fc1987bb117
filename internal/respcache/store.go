// Package respcache keeps whole answers of the gateway's reads, GraphQL's
// and REST's, so that a repeated read costs a lookup and a write of bytes,
// not an execution: what makes a cached GraphQL read as cheap as a REST
// one (gqlgen's executor costs what it costs per field and per list item).
//
// An answer is kept only when the entity cache vouches for it: it was
// built from fresh entries, its lifetime is their least remaining
// freshness, and it is tagged with their keys ("user:3", "event:event-4",
// "users", "events"). A write deletes those keys in the entity cache, which
// tells this cache (entitycache.Config.Deleted) before the write answers,
// in this replica and, through the entity cache's shared level, in the
// others: every answer tagged with them goes. A read that starts before a
// purge never stores what it built (an epoch, as in the entity cache).
// Answers with errors, mutations, streams and answers the door did not
// vouch for (httpcache.Policy.Said) are never kept.
//
// The whole answer is kept with its headers and ETag: a hit is written
// from the key alone, and If-None-Match is answered 304 without touching
// the body. Answers holding a private field are kept per caller (its
// token's user id), never shared; anonymous callers' private answers are
// not kept at all. Past its fresh lifetime an answer is served stale for
// the entity cache's stale-while-revalidate period, marked (Age, Warning,
// and the door's own mark), while one refresh per answer runs in the
// background; answers read in the last part of their fresh lifetime are
// refreshed ahead, so steady traffic does not meet the expiry.
//
// The store is bounded in bytes, least recently used first, with a limit
// per answer. It is written here rather than taken from a library because
// it needs three things together that no LRU offers: byte accounting, a
// tag index purged with its entries, and the epoch that keeps a read from
// before a write from storing.
package respcache

import (
	"container/list"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// entry is one kept answer.
type entry struct {
	key      string
	status   int
	header   map[string][]string
	body     []byte
	etag     string
	tags     []string
	tagAt    []int // e's place in byTag[tags[i]], for removal in constant time
	private  bool  // a marker: the answer is kept per caller, under another key
	stored   time.Time
	freshFor time.Duration
	staleFor time.Duration
	dataAge  time.Duration // the oldest entry's age when the answer was built
	size     int64
	elem     *list.Element
	replay   *replay // how to build it again (background refresh)
}

// store is the bytes-bounded LRU of entries with their tag index.
type store struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	order    *list.List // front: most recently used
	byKey    map[string]*entry
	// byTag lists the entries of each tag. A slice, not a set: most tags
	// (an event's) hold one or two answers, and a map per tag cost more
	// than the answer it indexes.
	byTag   map[string][]*entry
	epoch   atomic.Uint64
	onEvict func()
}

func newStore(maxBytes int64, onEvict func()) *store {
	return &store{maxBytes: maxBytes, order: list.New(), byKey: map[string]*entry{}, byTag: map[string][]*entry{}, onEvict: onEvict}
}

func (s *store) get(key string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e != nil {
		s.order.MoveToFront(e.elem)
	}
	return e
}

// put keeps e unless a purge came since epoch (what it was built from may
// predate a write), and evicts the least recently used past the budget.
func (s *store) put(e *entry, epoch uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch.Load() != epoch || e.size > s.maxBytes {
		return false
	}
	if old := s.byKey[e.key]; old != nil {
		s.remove(old)
	}
	e.elem = s.order.PushFront(e)
	s.byKey[e.key] = e
	s.bytes += e.size
	e.tagAt = make([]int, len(e.tags))
	for i, t := range e.tags {
		e.tagAt[i] = len(s.byTag[t])
		s.byTag[t] = append(s.byTag[t], e)
	}
	for s.bytes > s.maxBytes {
		oldest := s.order.Back().Value.(*entry)
		s.remove(oldest)
		if s.onEvict != nil {
			s.onEvict()
		}
	}
	return true
}

func (s *store) remove(e *entry) {
	s.order.Remove(e.elem)
	delete(s.byKey, e.key)
	s.bytes -= e.size
	for i, t := range e.tags {
		list := s.byTag[t]
		last := len(list) - 1
		if at := e.tagAt[i]; at != last { // the last one takes e's place
			moved := list[last]
			list[at] = moved
			moved.tagAt[slices.Index(moved.tags, t)] = at
		}
		list[last] = nil
		if last == 0 {
			delete(s.byTag, t)
		} else {
			s.byTag[t] = list[:last]
		}
	}
}

// purge removes every entry tagged with one of tags ("*": every entry) and
// returns how many went. It moves the epoch first, so that no read that
// began before it stores.
func (s *store) purge(tags []string) int {
	s.epoch.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range tags {
		if t == "*" {
			n += len(s.byKey)
			s.order.Init()
			s.byKey, s.byTag, s.bytes = map[string]*entry{}, map[string][]*entry{}, 0
			return n
		}
		for len(s.byTag[t]) > 0 {
			s.remove(s.byTag[t][0])
			n++
		}
	}
	return n
}

// size is what an entry costs the heap, near enough: its body, headers
// and key, its tags and their index (about 112 bytes a tag besides its
// name), and the bookkeeping (the entry, its list element, the replay's
// request: about 1 KB). TestCountedBytesMatchTheHeap holds the constants
// to the heap's growth.
func size(e *entry) int64 {
	n := int64(cap(e.body) + len(e.key) + 1024)
	if e.replay != nil {
		n += int64(len(e.replay.body))
	}
	for k, vs := range e.header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	for _, t := range e.tags {
		n += int64(len(t)) + 112
	}
	return n
}
