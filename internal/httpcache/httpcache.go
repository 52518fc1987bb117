// Package httpcache tells browsers and CDNs what they may do with a GET
// answer: Cache-Control from a policy the inner layers fill while the
// request is served (the shortest max-age of what the answer holds,
// private if any of it is), an ETag of the body (strong, or weak when a
// layer above may content-code it: WithWeakETags), and 304 Not Modified
// to a matching If-None-Match. Answers that are not 200 and answers to
// other methods are never stored.
package httpcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Policy collects, while a request is served, how long its answer may be
// reused. The zero policy has said nothing: the answer must be revalidated
// (no-cache) but may be kept. It is safe for concurrent use.
type Policy struct {
	mu      sync.Mutex
	set     bool
	maxAge  time.Duration
	private bool
	noStore bool
}

type policyKey struct{}

// WithPolicy returns ctx carrying p, as Handler does for a GET; for tests
// of the layers that fill a policy.
func WithPolicy(ctx context.Context, p *Policy) context.Context {
	return context.WithValue(ctx, policyKey{}, p)
}

// PolicyFrom returns the request's Policy, or nil outside Handler (a
// method other than GET or HEAD): calls on a nil Policy do nothing.
func PolicyFrom(ctx context.Context) *Policy {
	p, _ := ctx.Value(policyKey{}).(*Policy)
	return p
}

// Limit says the answer may be reused for at most maxAge, by shared caches
// too unless private. The shortest limit and any private win.
func (p *Policy) Limit(maxAge time.Duration, private bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if !p.set || maxAge < p.maxAge {
		p.maxAge = max(maxAge, 0)
	}
	p.set = true
	p.private = p.private || private
	p.mu.Unlock()
}

// MakePrivate says the answer depends on who asked (an authorization rule
// decided part of it): only the caller's own caches may keep it.
func (p *Policy) MakePrivate() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.private = true
	p.mu.Unlock()
}

// NoStore says the answer must not be kept at all (errors, personal data
// that must not linger).
func (p *Policy) NoStore() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.noStore = true
	p.mu.Unlock()
}

// Private reports whether any part of the answer is private.
func (p *Policy) Private() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.private
}

// MaxAge is the longest the answer may be reused, as far as its producer
// said (0 when it said nothing).
func (p *Policy) MaxAge() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxAge
}

// Said reports whether the answer's producer said how long it may be
// reused (Limit): a door does for its reads, never for a write.
func (p *Policy) Said() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.set
}

// Stored reports whether the answer may be kept at all (no part said
// no-store: errors, mutations).
func (p *Policy) Stored() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.noStore
}

// CacheControl is the header value the policy comes to.
func (p *Policy) CacheControl() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.noStore:
		return "no-store"
	case !p.set || p.maxAge < time.Second:
		if p.private {
			return "private, no-cache"
		}
		return "no-cache"
	}
	scope := "public"
	if p.private {
		scope = "private"
	}
	return scope + ", max-age=" + strconv.Itoa(int(p.maxAge/time.Second))
}

type weakKey struct{}

// WithWeakETags returns ctx telling Handler to give its answer a weak ETag
// (W/"…"). The layer that content-codes answers (gzip, zstd) sets it for
// every request that may get a coded answer: the tag is computed over the
// identity body, so it names the content, not the bytes on the wire, which
// is what a weak tag says (RFC 9110 §8.8.1). The tag depends only on the
// request, not on whether the coding layer compressed this answer (a
// matter of its size), so a 304 carries the same tag the 200 did, as RFC
// 9110 §15.4.5 asks. If-None-Match compares weakly, so a client holding
// either form gets its 304.
func WithWeakETags(ctx context.Context) context.Context {
	return context.WithValue(ctx, weakKey{}, true)
}

// Freshness is what an answer was built from, as a cache below reports it:
// whether any of it came from a cache (Used), whether any of that was past
// its fresh age (Stale), the oldest part's age, and how long the whole
// stays fresh.
type Freshness struct {
	Used, Stale   bool
	Age, FreshFor time.Duration
	// Keys name what the answer was built from (the entity cache's keys),
	// for a cache of whole answers to purge it by.
	Keys []string
}

// Outcome is what Handler learnt of an answer, for a layer outside it (the
// response cache) that decides whether to keep the answer: the policy the
// door filled (also for a POST, which Handler itself never lets be kept)
// and what the answer was built from.
type Outcome struct {
	Policy    *Policy
	Freshness Freshness
}

type outcomeKey struct{}

// WithOutcome asks Handler to fill o for the request of ctx.
func WithOutcome(ctx context.Context, o *Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

// Tracker gives a request what records the answer's Freshness: it returns
// ctx carrying the recorder and a func that reads it once the answer is
// built. The entity cache's report is one.
type Tracker func(ctx context.Context) (context.Context, func() Freshness)

// Handler applies a policy to next's answers, and marks answers built from
// stale data (with track set): Age, the oldest part's, and Warning 110
// ("Response is Stale"). GET and HEAD answers are held until next returns
// (streams, text/event-stream and multipart, pass through with no-store),
// so that the policy is complete and the ETag is of the whole body; the
// policy is limited to the data's remaining freshness. Every other
// method's answer passes through with Cache-Control: no-store, its stale
// marks set when its status is written (the reads are done by then).
func Handler(next http.Handler, track Tracker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" { // a WebSocket: not an answer to keep
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		freshness := func() Freshness { return Freshness{} }
		if track != nil {
			ctx, freshness = track(ctx)
		}
		hw := &holdWriter{ResponseWriter: w, freshness: freshness}
		out, _ := ctx.Value(outcomeKey{}).(*Outcome)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Cache-Control", "no-store")
			if out != nil {
				out.Policy = &Policy{}
				ctx = WithPolicy(ctx, out.Policy)
			}
			next.ServeHTTP(hw, r.WithContext(ctx))
			if out != nil {
				out.Freshness = freshness()
			}
			return
		}
		p := &Policy{}
		hw.hold = true
		next.ServeHTTP(hw, r.WithContext(WithPolicy(ctx, p)))
		hw.finish(r, p)
		if out != nil {
			out.Policy, out.Freshness = p, freshness()
		}
	})
}

// holdWriter holds a GET answer's status and body until it is complete,
// and passes other answers (and streams) through, marked if stale.
type holdWriter struct {
	http.ResponseWriter
	freshness func() Freshness
	hold      bool // a GET or HEAD answer, until it turns out a stream
	status    int
	body      bytes.Buffer
}

func (h *holdWriter) WriteHeader(status int) {
	if h.status != 0 {
		return
	}
	h.status = status
	ct := h.Header().Get("Content-Type")
	if h.hold && (strings.HasPrefix(ct, "text/event-stream") || strings.HasPrefix(ct, "multipart/")) {
		h.hold = false
		h.Header().Set("Cache-Control", "no-store")
	}
	if !h.hold {
		h.markStale(status, h.freshness())
		h.ResponseWriter.WriteHeader(status)
	}
}

func (h *holdWriter) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.WriteHeader(http.StatusOK)
	}
	if !h.hold {
		return h.ResponseWriter.Write(b)
	}
	return h.body.Write(b)
}

// Flush passes through for answers not held; a held answer is written at the end.
func (h *holdWriter) Flush() {
	if f, ok := h.ResponseWriter.(http.Flusher); ok && !h.hold {
		if h.status == 0 {
			h.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *holdWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// markStale says on a successful answer built from stale data how old it is.
func (h *holdWriter) markStale(status int, f Freshness) {
	if f.Stale && status == http.StatusOK {
		h.Header().Set("Age", strconv.Itoa(int(f.Age/time.Second)))
		h.Header().Set("Warning", `110 - "Response is Stale"`)
	}
}

func (h *holdWriter) finish(r *http.Request, p *Policy) {
	if !h.hold {
		return
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	hdr := h.Header()
	f := h.freshness()
	h.markStale(h.status, f)
	if h.status != http.StatusOK {
		hdr.Set("Cache-Control", "no-store")
		h.ResponseWriter.WriteHeader(h.status)
		_, _ = h.ResponseWriter.Write(h.body.Bytes())
		return
	}
	// What the answer was built from bounds how long it may be reused.
	if f.Used {
		p.Limit(f.FreshFor, false)
	}
	// The media type is part of the representation: one body answered as
	// application/json and as application/graphql-response+json (Vary:
	// Accept) gets two ETags.
	hash := sha256.New()
	hash.Write([]byte(hdr.Get("Content-Type") + "\x00"))
	hash.Write(h.body.Bytes())
	sum := hash.Sum(nil)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	if weak, _ := r.Context().Value(weakKey{}).(bool); weak {
		etag = "W/" + etag
	}
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", p.CacheControl())
	if ETagMatches(r.Header.Get("If-None-Match"), etag) {
		for _, k := range []string{"Content-Type", "Content-Length", "Warning"} {
			hdr.Del(k)
		}
		h.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(h.body.Len()))
	h.ResponseWriter.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = h.ResponseWriter.Write(h.body.Bytes())
	}
}

// ETagMatches reports whether an If-None-Match value names etag (weak
// comparison, as RFC 9110 asks for If-None-Match: W/"x" matches "x"). An
// empty etag or header matches nothing. The response cache answers its
// revalidations with it too.
func ETagMatches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" || etag == "" {
		return false
	}
	opaque := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == opaque {
			return true
		}
	}
	return false
}
