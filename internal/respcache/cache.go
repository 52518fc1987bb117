package respcache

import (
	"context"
	"sync"
	"time"
)

// Config configures a Cache; zero values take the defaults in brackets.
//
//	MaxBytes        [32 MiB]  all kept answers together (RESPONSE_CACHE_MAX_BYTES)
//	MaxEntryBytes   [1 MiB]   one answer; larger ones are served, not kept (RESPONSE_CACHE_MAX_ENTRY_BYTES)
//	StaleFor        [1m]      after its fresh lifetime an answer is served, marked stale, while refreshed
//	RefreshAhead    [0.2]     the last part of the fresh lifetime in which a read refreshes the answer
//	RefreshTimeout  [10s]     bound of one background refresh
//	MaxRefreshes    [16]      background refreshes at once; a read that finds them all busy
//	                          leaves its answer to a later read (it is served, stale if need be)
//	Now             [time.Now]
type Config struct {
	MaxBytes       int64
	MaxEntryBytes  int64
	StaleFor       time.Duration
	RefreshAhead   float64
	RefreshTimeout time.Duration
	MaxRefreshes   int
	Now            func() time.Time
	Hooks          Hooks
	// Refreshing, if set, prepares the context of a background refresh
	// (entitycache.WithRevalidate: the entities are fetched again, not
	// served from memory while still fresh).
	Refreshing func(context.Context) context.Context
}

// Hooks observe the cache (metrics); nil funcs are skipped. result is
// "hit", "stale", "miss" or "stored".
type Hooks struct {
	Lookup func(result string)
	Purged func(n int)
	Evict  func()
}

// Cache is the response cache. It is safe for concurrent use; make one
// per process and Close it at shutdown.
type Cache struct {
	cfg        Config
	store      *store
	refreshing sync.Map      // key → struct{}: one background refresh per answer
	slots      chan struct{} // one per background refresh running
	root       context.Context
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// New returns an empty Cache.
func New(cfg Config) *Cache {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 32 << 20
	}
	if cfg.MaxEntryBytes <= 0 {
		cfg.MaxEntryBytes = 1 << 20
	}
	if cfg.StaleFor <= 0 {
		cfg.StaleFor = time.Minute
	}
	if cfg.RefreshAhead <= 0 || cfg.RefreshAhead >= 1 {
		cfg.RefreshAhead = 0.2
	}
	if cfg.RefreshTimeout <= 0 {
		cfg.RefreshTimeout = 10 * time.Second
	}
	if cfg.MaxRefreshes <= 0 {
		// Refreshes run beside the requests they serve: many answers
		// falling due at once (a cache warmed in a burst) must not take
		// the CPU, the upstream and the heap from those requests.
		cfg.MaxRefreshes = 16
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	root, stop := context.WithCancel(context.Background())
	return &Cache{cfg: cfg, store: newStore(cfg.MaxBytes, cfg.Hooks.Evict), root: root, stop: stop,
		slots: make(chan struct{}, cfg.MaxRefreshes)}
}

// Purge removes every answer tagged with one of tags ("*": all) and
// reports how many went. A read under way does not store what it built.
// A nil Cache keeps nothing and purges nothing.
func (c *Cache) Purge(tags ...string) int {
	if c == nil { // no cache: nothing kept
		return 0
	}
	n := c.store.purge(tags)
	if c.cfg.Hooks.Purged != nil && n > 0 {
		c.cfg.Hooks.Purged(n)
	}
	return n
}

// Bytes is what the kept answers take.
func (c *Cache) Bytes() int64 {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	return c.store.bytes
}

// Len is the number of kept answers (private markers included).
func (c *Cache) Len() int {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	return len(c.store.byKey)
}

// Refreshing is the number of background refreshes running now: a slot
// is taken before the read that asked for it is answered and given back
// once the rebuilt answer is kept (or dropped).
func (c *Cache) Refreshing() int { return len(c.slots) }

// Close ends the background refreshes and waits for them.
func (c *Cache) Close() {
	c.stop()
	c.wg.Wait()
}

func (c *Cache) lookup(result string) {
	if c.cfg.Hooks.Lookup != nil {
		c.cfg.Hooks.Lookup(result)
	}
}
