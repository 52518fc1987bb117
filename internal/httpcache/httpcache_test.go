package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCacheControlFromThePolicy(t *testing.T) {
	tests := []struct {
		name   string
		method string
		status int
		policy func(p *Policy)
		want   string
	}{
		{"nothing said: revalidate", "GET", 200, func(*Policy) {}, "no-cache"},
		{"shortest limit wins", "GET", 200, func(p *Policy) { p.Limit(30*time.Second, false); p.Limit(5*time.Second, false) }, "public, max-age=5"},
		{"any private makes it private", "GET", 200, func(p *Policy) { p.Limit(30*time.Second, false); p.Limit(time.Minute, true) }, "private, max-age=30"},
		{"under a second: revalidate", "GET", 200, func(p *Policy) { p.Limit(500*time.Millisecond, false) }, "no-cache"},
		{"no-store wins", "GET", 200, func(p *Policy) { p.Limit(time.Minute, false); p.NoStore() }, "no-store"},
		{"errors are never stored", "GET", 502, func(p *Policy) { p.Limit(time.Minute, false) }, "no-store"},
		{"POST is never stored", "POST", 200, func(p *Policy) { p.Limit(time.Minute, false) }, "no-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.policy(PolicyFrom(r.Context()))
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, "body")
			}), nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/x", nil))
			if got := rec.Header().Get("Cache-Control"); got != tt.want || rec.Code != tt.status || rec.Body.String() != "body" {
				t.Errorf("%d %q %q; want %d %q", rec.Code, got, rec.Body.String(), tt.status, tt.want)
			}
		})
	}
}

func TestETagAndNotModified(t *testing.T) {
	body := "v1"
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		PolicyFrom(r.Context()).Limit(5*time.Second, false)
		_, _ = io.WriteString(w, body)
	}), nil)
	get := func(inm string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/x", nil)
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := get("")
	etag := first.Header().Get("ETag")
	if first.Code != 200 || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("first: %d ETag %q", first.Code, etag)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if rec := get(inm); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag ||
			rec.Header().Get("Cache-Control") != "public, max-age=5" {
			t.Errorf("If-None-Match %s: %d %q %v; want 304 with the ETag and Cache-Control", inm, rec.Code, rec.Body.String(), rec.Header())
		}
	}
	body = "v2"
	if rec := get(etag); rec.Code != 200 || rec.Body.String() != "v2" || rec.Header().Get("ETag") == etag {
		t.Errorf("after a change: %d %q ETag %q; want 200 with a new ETag", rec.Code, rec.Body.String(), rec.Header().Get("ETag"))
	}
}

func TestStreamsPassThrough(t *testing.T) {
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
	}), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Header().Get("ETag") != "" || rec.Header().Get("Cache-Control") != "no-store" || !rec.Flushed {
		t.Errorf("stream: %v flushed %v; want no ETag, no-store, flushed", rec.Header(), rec.Flushed)
	}
}

// Under a layer that content-codes answers the ETag is weak, on the 200 and
// on the 304 alike, and If-None-Match with the weak or the strong form of
// the tag revalidates: a client that cached the answer coded and one that
// cached it as it is both get their 304.
func TestWeakETagsUnderContentCoding(t *testing.T) {
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"v":1}`)
	}), nil)
	get := func(weak bool, inm string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/x", nil)
		if weak {
			req = req.WithContext(WithWeakETags(req.Context()))
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	strong := get(false, "").Header().Get("ETag")
	weak := get(true, "").Header().Get("ETag")
	if !strings.HasPrefix(strong, `"`) || weak != "W/"+strong {
		t.Fatalf("ETags %q and %q; want a strong tag and its weak form", strong, weak)
	}
	tests := []struct {
		name     string
		weak     bool
		inm      string
		wantCode int
		wantTag  string
	}{
		{"coded request, weak tag held", true, weak, 304, weak},
		{"coded request, strong tag held", true, strong, 304, weak},
		{"identity request, weak tag held", false, weak, 304, strong},
		{"identity request, strong tag held", false, strong, 304, strong},
		{"coded request, among others", true, `"other", ` + weak, 304, weak},
		{"coded request, another tag", true, `W/"other"`, 200, weak},
		{"a suffixed tag is another tag", true, strings.TrimSuffix(strong, `"`) + `-gzip"`, 200, weak},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(tt.weak, tt.inm)
			if rec.Code != tt.wantCode || rec.Header().Get("ETag") != tt.wantTag {
				t.Errorf("If-None-Match %s: %d ETag %q; want %d %q", tt.inm, rec.Code, rec.Header().Get("ETag"), tt.wantCode, tt.wantTag)
			}
			if tt.wantCode == 304 && rec.Body.Len() != 0 {
				t.Errorf("304 with a body %q", rec.Body.String())
			}
		})
	}
}

// Combining parts of an answer: any private part makes the whole private,
// and the shortest max-age wins, whichever order the parts are limited in.
func TestPolicyCombinesPartsInEitherOrder(t *testing.T) {
	type part struct {
		maxAge  time.Duration
		private bool
	}
	tests := []struct {
		name  string
		parts []part
		want  string
	}{
		{"private then public, private shorter", []part{{30 * time.Second, true}, {time.Minute, false}}, "private, max-age=30"},
		{"public then private, private shorter", []part{{time.Minute, false}, {30 * time.Second, true}}, "private, max-age=30"},
		{"private then public, public shorter", []part{{time.Minute, true}, {30 * time.Second, false}}, "private, max-age=30"},
		{"public then private, public shorter", []part{{30 * time.Second, false}, {time.Minute, true}}, "private, max-age=30"},
		{"private then public, equal", []part{{20 * time.Second, true}, {20 * time.Second, false}}, "private, max-age=20"},
		{"public then private, equal", []part{{20 * time.Second, false}, {20 * time.Second, true}}, "private, max-age=20"},
		{"private then public, under a second", []part{{0, true}, {time.Minute, false}}, "private, no-cache"},
		{"public then private, under a second", []part{{time.Minute, false}, {0, true}}, "private, no-cache"},
		{"private among publics", []part{{time.Minute, false}, {time.Hour, true}, {45 * time.Second, false}}, "private, max-age=45"},
		{"public only", []part{{time.Minute, false}, {45 * time.Second, false}}, "public, max-age=45"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{}
			for _, pt := range tt.parts {
				p.Limit(pt.maxAge, pt.private)
			}
			if got := p.CacheControl(); got != tt.want {
				t.Errorf("CacheControl() = %q; want %q", got, tt.want)
			}
		})
	}
}

// If-None-Match compares weakly, takes a list and "*", and an empty side
// matches nothing.
func TestETagMatches(t *testing.T) {
	tests := []struct {
		ifNoneMatch, etag string
		want              bool
	}{
		{`"a"`, `"a"`, true},
		{`W/"a"`, `"a"`, true},
		{`"a"`, `W/"a"`, true},
		{`"x", W/"a"`, `"a"`, true},
		{`*`, `"a"`, true},
		{`"b"`, `"a"`, false},
		{`"a`, `"a"`, false},
		{``, `"a"`, false},
		{`"a"`, ``, false},
		{` , `, ``, false},
	}
	for _, tt := range tests {
		if got := ETagMatches(tt.ifNoneMatch, tt.etag); got != tt.want {
			t.Errorf("ETagMatches(%q, %q) = %v, want %v", tt.ifNoneMatch, tt.etag, got, tt.want)
		}
	}
}
