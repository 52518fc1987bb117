package entitycache

import (
	"context"
	"sync"
	"time"

	"github.com/eventms/gateway/internal/httpcache"
)

// Report is what one request's reads took from the cache: whether any
// answer was stale, the oldest entry's age, and how long the answer stays
// fresh (the least remaining freshness of the entries used). The front
// doors turn it into GraphQL extensions and HTTP headers. It is safe for
// concurrent use (a request's loaders read in parallel).
type Report struct {
	mu        sync.Mutex
	used      bool
	stale     bool
	age       time.Duration
	freshLeft time.Duration
	keys      map[string]struct{}
}

// Summary is a Report's content at one moment.
type Summary struct {
	// Used is whether any read came from the cache (a hit, stale or not).
	Used bool
	// Stale is whether any answer was past its fresh age.
	Stale bool
	// Age is the oldest entry's age.
	Age time.Duration
	// FreshFor is how long the answer stays fresh; 0 when Stale, or when
	// something was fetched just now without a fresh age (cache off).
	FreshFor time.Duration
	// Keys are the entries used ("user:3", "event:event-4", "users",
	// "events"): what a write that deletes one of them changes.
	Keys []string
}

type reportKey struct{}

// WithReport returns ctx carrying a new Report, and the Report.
func WithReport(ctx context.Context) (context.Context, *Report) {
	r := &Report{freshLeft: -1}
	return context.WithValue(ctx, reportKey{}, r), r
}

// Track is the cache's httpcache.Tracker: it gives a request a new
// Report and reads it, once the answer is built, for the HTTP cache
// policy, the stale marks and the whole-answer cache's tags.
func Track(ctx context.Context) (context.Context, func() httpcache.Freshness) {
	ctx, r := WithReport(ctx)
	return ctx, func() httpcache.Freshness {
		s := r.Summary()
		return httpcache.Freshness{Used: s.Used, Stale: s.Stale, Age: s.Age, FreshFor: s.FreshFor, Keys: s.Keys}
	}
}

// ReportFrom returns the Report ctx carries, or nil.
func ReportFrom(ctx context.Context) *Report {
	r, _ := ctx.Value(reportKey{}).(*Report)
	return r
}

// Summary returns what the report holds now.
func (r *Report) Summary() Summary {
	if r == nil {
		return Summary{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Used: r.used, Stale: r.stale, Age: r.age, FreshFor: max(r.freshLeft, 0)}
	for k := range r.keys {
		s.Keys = append(s.Keys, k)
	}
	if s.Stale {
		s.FreshFor = 0
	}
	return s
}

// record notes one entry used: its key, its age, whether it was stale,
// and how long it stays fresh.
func (r *Report) record(key string, age, freshLeft time.Duration, stale bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.used = true
	if r.keys == nil {
		r.keys = map[string]struct{}{}
	}
	r.keys[key] = struct{}{}
	r.stale = r.stale || stale
	r.age = max(r.age, age)
	if r.freshLeft < 0 || freshLeft < r.freshLeft {
		r.freshLeft = max(freshLeft, 0)
	}
	r.mu.Unlock()
}
