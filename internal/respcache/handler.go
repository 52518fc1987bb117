package respcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/ratelimit"
)

// Door is what a front door tells the cache about its answers.
type Door struct {
	// Admit reports whether the door would serve r at all (GraphQL's CSRF
	// rule): a kept answer is never a way around a door's refusal. nil:
	// every request.
	Admit func(r *http.Request) bool
	// MarkStale returns body marked as built from data age seconds old
	// (GraphQL's extensions.cache); nil: the body stays as it is (the
	// Age and Warning headers say it).
	MarkStale func(body []byte, age int) []byte
}

// replay is how to build an answer again: its request (with the route's
// path values, and the identity of the caller it was built for) and its
// body.
type replay struct {
	req  *http.Request
	body []byte
}

// Handler serves next's reads from the cache and keeps the answers that
// may be kept (see the package comment). GET and POST requests are looked
// up; everything else, WebSocket upgrades included, passes.
func (c *Cache) Handler(next http.Handler, door Door) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodPost) || r.Header.Get("Upgrade") != "" ||
			(door.Admit != nil && !door.Admit(r)) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := requestBody(r)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		key := keyOf(r, body)
		id := identity.From(r.Context())
		e := c.store.get(key)
		if e != nil && e.private {
			e = nil
			if id.Authenticated() {
				e = c.store.get(privateKey(key, id.UserID))
			}
		}
		if e != nil && c.serve(w, r, e, door, next) {
			return
		}
		c.lookup("miss")
		annotate(r.Context(), "miss")
		c.fill(w, r, next, key, body, id)
	})
}

// serve answers r from e if e is fresh, or within its stale period, and
// reports whether it did.
func (c *Cache) serve(w http.ResponseWriter, r *http.Request, e *entry, door Door, next http.Handler) bool {
	age := c.cfg.Now().Sub(e.stored)
	switch {
	case age < e.freshFor:
		if float64(age) >= float64(e.freshFor)*(1-c.cfg.RefreshAhead) {
			c.refresh(e, next)
		}
		c.lookup("hit")
		annotate(r.Context(), "hit")
		write(w, r, e, false, 0, door)
		return true
	case age < e.freshFor+e.staleFor:
		c.refresh(e, next)
		c.lookup("stale")
		annotate(r.Context(), "stale")
		write(w, r, e, true, int((age+e.dataAge)/time.Second), door)
		return true
	}
	return false
}

// write writes a kept answer: its headers and body from the entry, 304 to
// an If-None-Match naming its ETag, the stale marks when stale.
func write(w http.ResponseWriter, r *http.Request, e *entry, stale bool, age int, door Door) {
	h := w.Header()
	for k, vs := range e.header {
		h[k] = vs
	}
	h.Set("X-Cache", "hit")
	body := e.body
	if stale {
		h.Set("X-Cache", "stale")
		h.Set("Age", strconv.Itoa(age))
		h.Set("Warning", `110 - "Response is Stale"`)
		if door.MarkStale != nil {
			body = door.MarkStale(body, age)
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
	}
	if httpcache.ETagMatches(r.Header.Get("If-None-Match"), e.etag) {
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// fill serves r through next, copying the answer as it goes, and keeps it
// if it may be kept and no purge came while it was built.
func (c *Cache) fill(w http.ResponseWriter, r *http.Request, next http.Handler, key string, body []byte, id identity.Identity) {
	epoch := c.store.epoch.Load()
	var out httpcache.Outcome
	cw := &captureWriter{ResponseWriter: w, limit: c.cfg.MaxEntryBytes}
	next.ServeHTTP(cw, r.WithContext(httpcache.WithOutcome(r.Context(), &out)))
	// The replay keeps the request and the caller's identity, not the
	// request's context: its values (the span, the access log's record,
	// the connection's) would be kept alive with every answer, and none of
	// them belongs to a refresh.
	rp := &replay{req: r.Clone(identity.WithIdentity(context.Background(), id)), body: body}
	c.keep(cw, &out, key, id, epoch, rp)
}

// keep stores the captured answer if it may be kept.
func (c *Cache) keep(cw *captureWriter, out *httpcache.Outcome, key string, id identity.Identity, epoch uint64, rp *replay) {
	f := out.Freshness
	if cw.dropped || cw.status != http.StatusOK || out.Policy == nil || !out.Policy.Said() || !out.Policy.Stored() ||
		!f.Used || f.Stale || len(f.Keys) == 0 {
		return
	}
	// The lifetime is the data's freshness: a write purges the answer, so
	// it may outlive what browsers are told (maxAge 0, the schema's
	// default, says they must revalidate: they cannot be purged). A
	// positive maxAge hint bounds it too: the schema's author wants that
	// data no older.
	lifetime := f.FreshFor
	if maxAge := out.Policy.MaxAge(); maxAge > 0 {
		lifetime = min(lifetime, maxAge)
	}
	if lifetime < time.Second {
		return
	}
	private := out.Policy.Private()
	if private && !id.Authenticated() {
		return // an anonymous caller's private answer is nobody's to share
	}
	header := http.Header{}
	for _, k := range []string{"Content-Type", "Cache-Control", "Etag", "Vary", "Content-Length"} {
		if v := cw.Header().Values(k); len(v) > 0 {
			header[k] = append([]string(nil), v...)
		}
	}
	e := &entry{key: key, status: cw.status, header: header, body: bytes.Clone(cw.body.Bytes()), etag: cw.Header().Get("ETag"),
		tags: f.Keys, stored: c.cfg.Now(), freshFor: lifetime, staleFor: c.cfg.StaleFor, dataAge: f.Age, replay: rp}
	if private {
		marker := &entry{key: key, private: true, tags: f.Keys, stored: e.stored, freshFor: lifetime, staleFor: c.cfg.StaleFor}
		marker.size = size(marker)
		if !c.store.put(marker, epoch) {
			return
		}
		e.key = privateKey(key, id.UserID)
	}
	e.size = size(e)
	if e.size <= c.cfg.MaxEntryBytes && c.store.put(e, epoch) {
		c.lookup("stored")
	}
}

// refresh builds e's answer again in the background, once at a time per
// answer and at most MaxRefreshes at once, as the caller it was built
// for, spending none of its budgets.
func (c *Cache) refresh(e *entry, next http.Handler) {
	if e.replay == nil {
		return
	}
	if _, running := c.refreshing.LoadOrStore(e.key, struct{}{}); running {
		return
	}
	select {
	case c.slots <- struct{}{}:
	default: // all busy: a later read asks again
		c.refreshing.Delete(e.key)
		return
	}
	c.wg.Go(func() {
		defer func() { <-c.slots; c.refreshing.Delete(e.key) }()
		rp := e.replay
		ctx := ratelimit.WithKey(rp.req.Context(), "")
		if c.cfg.Refreshing != nil {
			ctx = c.cfg.Refreshing(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, c.cfg.RefreshTimeout)
		defer cancel()
		stop := context.AfterFunc(c.root, cancel)
		defer stop()
		epoch := c.store.epoch.Load()
		var out httpcache.Outcome
		req := rp.req.Clone(httpcache.WithOutcome(ctx, &out))
		req.Body = io.NopCloser(bytes.NewReader(rp.body))
		cw := &captureWriter{ResponseWriter: discard{header: http.Header{}}, limit: c.cfg.MaxEntryBytes}
		next.ServeHTTP(cw, req)
		c.keep(cw, &out, keyOf(rp.req, rp.body), identity.From(ctx), epoch, rp)
	})
}

// keyOf is what a read's answer depends on: method, path and query, the
// media type asked for, and the body (the document, its operation name and
// variables, or a persisted document's id): as it is up to inlineBody
// bytes, else its SHA-256. Built in one allocation: it is computed for
// every read, hit or miss. The caller's identity is added for private
// answers (privateKey).
func keyOf(r *http.Request, body []byte) string {
	accept := r.Header.Get("Accept")
	var sum [sha256.Size]byte
	tail := body
	mark := byte('b')
	if len(body) > inlineBody {
		sum, mark = sha256.Sum256(body), 'h'
		tail = sum[:]
	}
	var b strings.Builder
	b.Grow(len(r.Method) + len(r.URL.Path) + len(r.URL.RawQuery) + len(accept) + len(tail) + 5)
	b.WriteString(r.Method)
	b.WriteByte(0)
	b.WriteString(r.URL.Path)
	b.WriteByte('?')
	b.WriteString(r.URL.RawQuery)
	b.WriteByte(0)
	b.WriteString(accept)
	b.WriteByte(0)
	b.WriteByte(mark)
	b.Write(tail)
	return b.String()
}

// inlineBody is the longest body a key holds as it is (a query and its
// variables, usually): hashing it would cost more than the bytes.
const inlineBody = 512

func privateKey(key, userID string) string { return key + "\x00user:" + userID }

// requestBody is the body the HTTP layer read whole (it offers its bytes).
func requestBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if b, ok := r.Body.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// annotate notes the lookup on the request's span.
func annotate(ctx context.Context, result string) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("cache.response", result))
	}
}

// captureWriter passes an answer to the client and keeps a copy of it
// while it fits MaxEntryBytes and is not a stream.
type captureWriter struct {
	http.ResponseWriter
	limit   int64
	status  int
	body    bytes.Buffer
	dropped bool
}

func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
		ct := c.Header().Get("Content-Type")
		if strings.HasPrefix(ct, "multipart/") || strings.HasPrefix(ct, "text/event-stream") {
			c.dropped = true
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if !c.dropped {
		if int64(c.body.Len()+len(b)) > c.limit {
			c.dropped = true
			c.body = bytes.Buffer{}
		} else {
			c.body.Write(b)
		}
	}
	return c.ResponseWriter.Write(b)
}

// Flush passes through for streams.
func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// discard is the writer of a background refresh: nobody reads it.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
