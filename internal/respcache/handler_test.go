package respcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/testwait"
)

// origin is a door's stand-in: it answers with its settings, filling the
// policy as a door does, and reports the freshness the entity cache would.
type origin struct {
	mu        sync.Mutex
	calls     atomic.Int32
	status    int
	body      string
	private   bool
	said      bool
	maxAge    time.Duration // what the door says (the schema's hints)
	fresh     time.Duration
	keys      []string
	mediaType string
	refreshed atomic.Int32 // calls whose context the Refreshing hook prepared
}

type refreshingKey struct{}

func (o *origin) handler() http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.calls.Add(1)
		if r.Context().Value(refreshingKey{}) != nil {
			o.refreshed.Add(1)
		}
		o.mu.Lock()
		said, maxAge, private, mediaType, status, body := o.said, o.maxAge, o.private, o.mediaType, o.status, o.body
		o.mu.Unlock()
		if said {
			httpcache.PolicyFrom(r.Context()).Limit(maxAge, private)
		}
		w.Header().Set("Content-Type", mediaType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body+" #"+strconv.Itoa(int(o.calls.Load())))
	})
	return httpcache.Handler(inner, func(ctx context.Context) (context.Context, func() httpcache.Freshness) {
		return ctx, func() httpcache.Freshness {
			o.mu.Lock()
			defer o.mu.Unlock()
			return httpcache.Freshness{Used: true, FreshFor: o.fresh, Keys: o.keys}
		}
	})
}

func newOrigin() *origin {
	return &origin{status: 200, body: "answer", said: true, maxAge: time.Minute, fresh: 10 * time.Second, keys: []string{"user:1"}, mediaType: "application/json"}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newCache(t *testing.T, cfg Config) (*Cache, *clock) {
	t.Helper()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	cfg.Now = clk.Now
	cfg.Refreshing = func(ctx context.Context) context.Context { return context.WithValue(ctx, refreshingKey{}, true) }
	c := New(cfg)
	t.Cleanup(c.Close)
	return c, clk
}

func get(t *testing.T, h http.Handler, id *identity.Identity, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(t, h, "GET", id, header...)
}

func serve(t *testing.T, h http.Handler, method string, id *identity.Identity, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/users/1", strings.NewReader(`{"query": "{ user(id: 1) { id } }"}`))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	if id != nil {
		r = r.WithContext(identity.WithIdentity(r.Context(), *id))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// What may not be kept is served every time and never kept.
func TestAnswersThatAreNeverKept(t *testing.T) {
	tests := []struct {
		name   string
		change func(*origin)
		cfg    Config
		method string
	}{
		{"an error status", func(o *origin) { o.status = 502 }, Config{}, ""},
		{"a POST the door said nothing of (a write)", func(o *origin) { o.said = false }, Config{}, "POST"},
		{"a door that said less than a second", func(o *origin) { o.maxAge = 500 * time.Millisecond }, Config{}, ""},
		{"no entity freshness", func(o *origin) { o.keys = nil }, Config{}, ""},
		{"fresh for no time", func(o *origin) { o.fresh = 0 }, Config{}, ""},
		{"a stream", func(o *origin) { o.mediaType = "text/event-stream" }, Config{}, ""},
		{"multipart", func(o *origin) { o.mediaType = "multipart/mixed; boundary=-" }, Config{}, ""},
		{"larger than one entry may be", func(o *origin) { o.body = strings.Repeat("x", 2048) }, Config{MaxEntryBytes: 1024}, ""},
		{"a private answer to an anonymous caller", func(o *origin) { o.private = true }, Config{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin()
			tt.change(o)
			c, _ := newCache(t, tt.cfg)
			h := c.Handler(o.handler(), Door{})
			method := tt.method
			if method == "" {
				method = "GET"
			}
			for i := 1; i <= 2; i++ {
				rec := serve(t, h, method, nil)
				if !strings.Contains(rec.Body.String(), "#"+strconv.Itoa(i)) || rec.Header().Get("X-Cache") != "" {
					t.Fatalf("read %d: X-Cache %q, %q; want it built again", i, rec.Header().Get("X-Cache"), rec.Body)
				}
			}
			if c.Len() != 0 || c.Bytes() != 0 {
				t.Errorf("%d answers, %d bytes kept; want none", c.Len(), c.Bytes())
			}
		})
	}
}

// A private answer is kept per caller: the user it was built for gets it,
// nobody else does, and anonymous callers never.
func TestPrivateAnswersAreKeptPerCaller(t *testing.T) {
	o := newOrigin()
	o.private = true
	c, _ := newCache(t, Config{})
	h := c.Handler(o.handler(), Door{})
	alice, bob := identity.Identity{UserID: "1"}, identity.Identity{UserID: "2"}
	get(t, h, &alice)
	if rec := get(t, h, &alice); rec.Header().Get("X-Cache") != "hit" || !strings.Contains(rec.Body.String(), "#1") {
		t.Errorf("alice again: X-Cache %q %q; want her kept answer", rec.Header().Get("X-Cache"), rec.Body)
	}
	if rec := get(t, h, &bob); rec.Header().Get("X-Cache") != "" || !strings.Contains(rec.Body.String(), "#2") {
		t.Errorf("bob: X-Cache %q %q; want his own answer built", rec.Header().Get("X-Cache"), rec.Body)
	}
	if rec := get(t, h, nil); rec.Header().Get("X-Cache") != "" || !strings.Contains(rec.Body.String(), "#3") {
		t.Errorf("anonymous: X-Cache %q %q; want an answer built", rec.Header().Get("X-Cache"), rec.Body)
	}
	if rec := get(t, h, &bob); rec.Header().Get("X-Cache") != "hit" || !strings.Contains(rec.Body.String(), "#2") {
		t.Errorf("bob again: X-Cache %q %q; want his kept answer", rec.Header().Get("X-Cache"), rec.Body)
	}
}

// Through its lifetime an answer is a hit, refreshed ahead in its last
// fifth; then it is served stale, marked, while one refresh runs; past
// the stale period it is built again.
func TestLifetimeOfAKeptAnswer(t *testing.T) {
	o := newOrigin()
	var lookups sync.Map
	count := func(r string) { n, _ := lookups.LoadOrStore(r, new(atomic.Int32)); n.(*atomic.Int32).Add(1) }
	c, clk := newCache(t, Config{StaleFor: 30 * time.Second, Hooks: Hooks{Lookup: count}})
	door := Door{MarkStale: func(b []byte, age int) []byte { return append(b, []byte(" stale "+strconv.Itoa(age))...) }}
	h := c.Handler(o.handler(), door)
	get(t, h, nil)
	clk.Advance(5 * time.Second)
	if rec := get(t, h, nil); rec.Header().Get("X-Cache") != "hit" || o.calls.Load() != 1 {
		t.Fatalf("at 5s: X-Cache %q, %d calls; want a hit and no refresh", rec.Header().Get("X-Cache"), o.calls.Load())
	}
	clk.Advance(4 * time.Second) // 9s of 10: refreshed ahead
	if rec := get(t, h, nil); rec.Header().Get("X-Cache") != "hit" || !strings.Contains(rec.Body.String(), "#1") {
		t.Fatalf("at 9s: X-Cache %q %q; want the kept answer", rec.Header().Get("X-Cache"), rec.Body)
	}
	c.wg.Wait()
	if o.calls.Load() != 2 || o.refreshed.Load() != 1 || c.Refreshing() != 0 {
		t.Fatalf("%d calls, %d refreshes, %d still running; want one refresh ahead, ended", o.calls.Load(), o.refreshed.Load(), c.Refreshing())
	}
	if rec := get(t, h, nil); !strings.Contains(rec.Body.String(), "#2") {
		t.Errorf("after the refresh %q; want the refreshed answer", rec.Body)
	}
	clk.Advance(15 * time.Second) // 15s after the refresh stored: stale
	rec := get(t, h, nil)
	if rec.Header().Get("X-Cache") != "stale" || rec.Header().Get("Age") != "15" || rec.Header().Get("Warning") == "" ||
		!strings.HasSuffix(rec.Body.String(), "#2 stale 15") {
		t.Errorf("stale: X-Cache %q Age %q Warning %q %q; want marked stale, 15s", rec.Header().Get("X-Cache"),
			rec.Header().Get("Age"), rec.Header().Get("Warning"), rec.Body)
	}
	c.wg.Wait()
	if o.calls.Load() != 3 {
		t.Errorf("%d calls; want one background refresh of the stale answer", o.calls.Load())
	}
	clk.Advance(time.Minute) // past fresh and stale
	if rec := get(t, h, nil); rec.Header().Get("X-Cache") != "" || !strings.Contains(rec.Body.String(), "#4") {
		t.Errorf("expired: X-Cache %q %q; want it built again", rec.Header().Get("X-Cache"), rec.Body)
	}
	for result, want := range map[string]int32{"hit": 3, "stale": 1, "miss": 2} {
		n, _ := lookups.Load(result)
		if n == nil || n.(*atomic.Int32).Load() != want {
			t.Errorf("%s lookups %v; want %d", result, n, want)
		}
	}
}

// A hit answers If-None-Match naming its ETag with 304 and no body.
func TestKeptAnswerRevalidates(t *testing.T) {
	o := newOrigin()
	c, _ := newCache(t, Config{})
	h := c.Handler(o.handler(), Door{})
	etag := get(t, h, nil).Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on the first answer")
	}
	for inm, want := range map[string]int{etag: 304, "W/" + etag: 304, `"other", ` + etag: 304, "*": 304, `"other"`: 200} {
		rec := get(t, h, nil, "If-None-Match", inm)
		if rec.Code != want || (want == 304 && rec.Body.Len() != 0) {
			t.Errorf("If-None-Match %s: %d with %d bytes; want %d", inm, rec.Code, rec.Body.Len(), want)
		}
	}
	if o.calls.Load() != 1 {
		t.Errorf("%d calls; want every revalidation from the cache", o.calls.Load())
	}
}

// A door's refusal is not bypassed by a kept answer, and a purge while an
// answer is built keeps it from being stored.
func TestRefusedAndRacingReads(t *testing.T) {
	o := newOrigin()
	c, _ := newCache(t, Config{})
	admit := true
	h := c.Handler(o.handler(), Door{Admit: func(*http.Request) bool { return admit }})
	get(t, h, nil)
	admit = false
	if rec := get(t, h, nil); rec.Header().Get("X-Cache") != "" || o.calls.Load() != 2 {
		t.Errorf("refused by the door: X-Cache %q, %d calls; want it passed to the door", rec.Header().Get("X-Cache"), o.calls.Load())
	}
	admit = true
	c.Purge("*")
	racing := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Purge("user:1") // a write lands while the answer is built
		o.handler().ServeHTTP(w, r)
	}), Door{})
	get(t, racing, nil)
	if c.Len() != 0 {
		t.Errorf("%d answers kept; an answer built across a purge must not be", c.Len())
	}
}

// A POST read the door vouched for is kept like a GET; the lifetime is
// the shorter of the door's word and the data's freshness.
func TestLifetimeIsTheDoorsWordAndTheDatas(t *testing.T) {
	tests := []struct {
		name          string
		maxAge, fresh time.Duration
		freshAt       time.Duration // a read this late is still a hit
		staleAt       time.Duration // and this late stale
	}{
		{"the door's word is shorter", 3 * time.Second, 10 * time.Second, 2 * time.Second, 3 * time.Second},
		{"the data's freshness is shorter", time.Minute, 4 * time.Second, 3 * time.Second, 4 * time.Second},
		{"the door said 0: browsers revalidate, a purged cache need not", 0, 4 * time.Second, 3 * time.Second, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin()
			o.maxAge, o.fresh = tt.maxAge, tt.fresh
			c, clk := newCache(t, Config{RefreshAhead: 0.01})
			h := c.Handler(o.handler(), Door{})
			serve(t, h, "POST", nil)
			clk.Advance(tt.freshAt)
			if rec := serve(t, h, "POST", nil); rec.Header().Get("X-Cache") != "hit" {
				t.Errorf("at %v: X-Cache %q; want hit", tt.freshAt, rec.Header().Get("X-Cache"))
			}
			clk.Advance(tt.staleAt - tt.freshAt)
			if rec := serve(t, h, "POST", nil); rec.Header().Get("X-Cache") != "stale" {
				t.Errorf("at %v: X-Cache %q; want stale", tt.staleAt, rec.Header().Get("X-Cache"))
			}
		})
	}
}

// The byte bound is a bound on memory: what the cache counts for its
// answers is close to what keeping them costs the heap (answers of a user
// with 10 events: 11 tags, about 600 bytes of body).
func TestCountedBytesMatchTheHeap(t *testing.T) {
	const n = 1000
	o := newOrigin()
	o.body = strings.Repeat("e", 600)
	c, _ := newCache(t, Config{MaxBytes: 1 << 30})
	h := c.Handler(o.handler(), Door{})
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", "/getEventsByUserId/u"+strconv.Itoa(i), nil)
	}
	keys := make([][]string, n)
	for i := range keys {
		keys[i] = []string{"user:u" + strconv.Itoa(i)}
		for j := range 10 {
			keys[i] = append(keys[i], "event:u"+strconv.Itoa(i)+"-e"+strconv.Itoa(j))
		}
	}
	before := heapAlloc()
	for i, r := range reqs {
		o.mu.Lock()
		o.keys = keys[i]
		o.mu.Unlock()
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	grown := heapAlloc() - before
	runtime.KeepAlive(reqs)
	if c.Len() != n {
		t.Fatalf("%d answers kept; want %d", c.Len(), n)
	}
	ratio := float64(c.Bytes()) / float64(grown)
	t.Logf("counted %d bytes an answer, heap grew %d (counted/heap %.2f)", c.Bytes()/n, grown/n, ratio)
	if ratio < 0.8 || ratio > 1.25 {
		t.Errorf("counted/heap = %.2f; want within 20%%", ratio)
	}
}

func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Background refreshes run at most MaxRefreshes at once: a read that finds
// them busy is served and leaves the refresh to a later read.
func TestBackgroundRefreshesAreBounded(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 4)
	var calls atomic.Int32
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 2 { // the refreshes
			started <- r.URL.Path
			<-release
		}
		httpcache.PolicyFrom(r.Context()).Limit(time.Minute, false)
		_, _ = io.WriteString(w, "answer "+r.URL.Path)
	})
	track := func(ctx context.Context) (context.Context, func() httpcache.Freshness) {
		return ctx, func() httpcache.Freshness {
			return httpcache.Freshness{Used: true, FreshFor: 10 * time.Second, Keys: []string{"users"}}
		}
	}
	c, clk := newCache(t, Config{MaxRefreshes: 1})
	h := c.Handler(httpcache.Handler(inner, track), Door{})
	serve := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Header().Get("X-Cache")
	}
	serve("/a")
	serve("/b")
	clk.Advance(9 * time.Second) // both in their refresh-ahead window
	if serve("/a") != "hit" || serve("/b") != "hit" {
		t.Fatal("kept answers not served")
	}
	testwait.Recv(t, started, "a's refresh to start")
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls; want 3: b's refresh must wait for a free slot", n)
	}
	close(release)
	c.wg.Wait()
	serve("/b") // a slot is free again
	c.wg.Wait()
	if n := calls.Load(); n != 4 {
		t.Errorf("%d calls; want b refreshed once a slot was free", n)
	}
}
