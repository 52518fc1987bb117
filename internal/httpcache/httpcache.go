// Package httpcache tells browsers and CDNs what they may do with a GET
// answer: Cache-Control from a policy the inner layers fill while the
// request is served (the shortest max-age of what the answer holds,
// private if any of it is), a strong ETag of the body, and 304 Not
// Modified to a matching If-None-Match. Answers that are not 200 and
// answers to other methods are never stored.
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

// Handler applies a policy to next's answers. GET and HEAD answers are held
// until next returns (streams, text/event-stream and multipart, pass
// through with no-store), so that the policy is complete and the ETag is of
// the whole body. Every other method's answer gets Cache-Control: no-store.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" { // a WebSocket: not an answer to keep
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r)
			return
		}
		p := &Policy{}
		hw := &holdWriter{ResponseWriter: w}
		next.ServeHTTP(hw, r.WithContext(WithPolicy(r.Context(), p)))
		hw.finish(r, p)
	})
}

// holdWriter holds a GET answer's status and body until it is complete.
type holdWriter struct {
	http.ResponseWriter
	status    int
	body      bytes.Buffer
	streaming bool
}

func (h *holdWriter) WriteHeader(status int) {
	if h.status != 0 {
		return
	}
	h.status = status
	ct := h.Header().Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") || strings.HasPrefix(ct, "multipart/") {
		h.streaming = true
		h.Header().Set("Cache-Control", "no-store")
		h.ResponseWriter.WriteHeader(status)
	}
}

func (h *holdWriter) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.WriteHeader(http.StatusOK)
	}
	if h.streaming {
		return h.ResponseWriter.Write(b)
	}
	return h.body.Write(b)
}

// Flush passes through for streams; a held answer is written at the end.
func (h *holdWriter) Flush() {
	if f, ok := h.ResponseWriter.(http.Flusher); ok && h.streaming {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *holdWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h *holdWriter) finish(r *http.Request, p *Policy) {
	if h.streaming {
		return
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	hdr := h.Header()
	if h.status != http.StatusOK {
		hdr.Set("Cache-Control", "no-store")
		h.ResponseWriter.WriteHeader(h.status)
		_, _ = h.ResponseWriter.Write(h.body.Bytes())
		return
	}
	// The media type is part of the representation: one body answered as
	// application/json and as application/graphql-response+json (Vary:
	// Accept) gets two ETags.
	hash := sha256.New()
	hash.Write([]byte(hdr.Get("Content-Type") + "\x00"))
	hash.Write(h.body.Bytes())
	sum := hash.Sum(nil)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", p.CacheControl())
	if matches(r.Header.Get("If-None-Match"), etag) {
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

// matches reports whether an If-None-Match value names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(ifNoneMatch, etag string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
