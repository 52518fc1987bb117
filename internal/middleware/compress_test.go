package middleware_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/rest"
	"github.com/eventms/gateway/internal/servicetest"
)

// eventsRoute answers a user's 50 events: about 4 kB of JSON.
const eventsRoute = "/getEventsByUserId/u1"

// recorded is what the stack's Recorder (Observe) saw, by path.
type recorded struct {
	mu     sync.Mutex
	status map[string][]int
}

func (r *recorded) statuses(path string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status[path]
}

// restServer serves the REST door and /metrics on the server's stack
// (compression on, as configured by default) over a simulator with a user
// of 50 events; mod adjusts the configuration.
func restServer(t *testing.T, mod func(*config.Config)) (*servicetest.Server, *recorded) {
	t.Helper()
	env := servicetest.New(t, servicetest.Options{Sim: eventsim.Config{Users: 1, EventsPerUser: 50}, Config: mod})
	rec := &recorded{status: map[string][]int{}}
	env.Stack.Record = func(route, _ string, status int, _ time.Duration, _ string) {
		rec.mu.Lock()
		rec.status[route] = append(rec.status[route], status)
		rec.mu.Unlock()
	}
	srv := env.Serve(t, func(r *middleware.Routes) {
		rest.New(env.Service, env.Log).Register(r)
		r.HandleUncached("GET /metrics", env.Metrics.Handler())
	})
	return srv, rec
}

// raw is a client that sends the headers it is given and no others (no
// Accept-Encoding of its own) and decodes nothing.
var raw = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// fetch sends a request with header and returns the answer as it came.
func fetch(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// decode undoes a Content-Encoding with decoders other than the coder's
// (the standard library's gzip; zstd's reference-compatible decoder).
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", coding, err)
	}
	return out
}

func varies(h http.Header, on string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), on) {
				return true
			}
		}
	}
	return false
}

// A coded answer decodes to the very JSON the identity answer carries, in
// the coding the client prefers (zstd on a tie); a coding the gateway does
// not speak leaves the answer as it is. Every answer says Vary.
func TestCodedAnswersDecodeToTheIdentityBody(t *testing.T) {
	srv, _ := restServer(t, nil)
	_, identity := fetch(t, "GET", srv.URL+eventsRoute, nil)
	var events []map[string]any
	if err := json.Unmarshal(identity, &events); err != nil || len(events) != 50 {
		t.Fatalf("identity answer: %v, %d events", err, len(events))
	}
	tests := []struct{ accept, want string }{
		{"gzip", "gzip"},
		{"zstd", "zstd"},
		{"gzip, deflate, br, zstd", "zstd"},
		{"gzip;q=1.0, zstd;q=0.5", "gzip"},
		{"br", ""},
		{"identity", ""},
		{"gzip;q=0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			resp, body := fetch(t, "GET", srv.URL+eventsRoute, map[string]string{"Accept-Encoding": tt.accept})
			if got := resp.Header.Get("Content-Encoding"); got != tt.want || resp.StatusCode != 200 {
				t.Fatalf("%d Content-Encoding %q; want 200 %q", resp.StatusCode, got, tt.want)
			}
			if !varies(resp.Header, "Accept-Encoding") {
				t.Errorf("Vary %q; want Accept-Encoding", resp.Header.Values("Vary"))
			}
			if tt.want != "" && len(body) >= len(identity)/2 {
				t.Errorf("%d bytes coded of %d; want much fewer", len(body), len(identity))
			}
			if plain := decode(t, tt.want, body); !bytes.Equal(plain, identity) {
				t.Errorf("decoded:\n%s\nwant:\n%s", plain, identity)
			}
		})
	}
}

// COMPRESS_MIN_BYTES is the smallest answer coded: exactly at the
// threshold it is, a byte under it is not (and keeps its Content-Length).
func TestAnswersUnderTheThresholdGoAsTheyAre(t *testing.T) {
	probe, _ := restServer(t, nil)
	_, identity := fetch(t, "GET", probe.URL+eventsRoute, nil)
	size := len(identity)
	for _, tt := range []struct {
		min  int
		want string
	}{{size, "gzip"}, {size + 1, ""}} {
		t.Run(strconv.Itoa(tt.min), func(t *testing.T) {
			srv, _ := restServer(t, func(c *config.Config) { c.HTTP.CompressMinBytes = tt.min })
			resp, body := fetch(t, "GET", srv.URL+eventsRoute, map[string]string{"Accept-Encoding": "gzip"})
			if got := resp.Header.Get("Content-Encoding"); got != tt.want {
				t.Fatalf("%d-byte answer, threshold %d: Content-Encoding %q; want %q", size, tt.min, got, tt.want)
			}
			if tt.want == "" && (resp.ContentLength != int64(size) || !bytes.Equal(body, identity)) {
				t.Errorf("uncoded answer: Content-Length %d, %d bytes; want %d, the identity body", resp.ContentLength, len(body), size)
			}
			if !varies(resp.Header, "Accept-Encoding") {
				t.Errorf("Vary %q; want Accept-Encoding on an uncoded answer too", resp.Header.Values("Vary"))
			}
		})
	}
}

// A HEAD answer is never coded (gzhttp's rule); it carries the same ETag
// as the coded GET, so a cache sees one resource.
func TestHeadIsNotCoded(t *testing.T) {
	srv, _ := restServer(t, nil)
	ae := map[string]string{"Accept-Encoding": "gzip, zstd"}
	get, _ := fetch(t, "GET", srv.URL+eventsRoute, ae)
	head, body := fetch(t, "HEAD", srv.URL+eventsRoute, ae)
	if head.StatusCode != 200 || len(body) != 0 || head.Header.Get("Content-Encoding") != "" {
		t.Errorf("HEAD: %d Content-Encoding %q, %d bytes; want 200, none, none", head.StatusCode, head.Header.Get("Content-Encoding"), len(body))
	}
	if etag := head.Header.Get("ETag"); etag == "" || etag != get.Header.Get("ETag") || !varies(head.Header, "Accept-Encoding") {
		t.Errorf("HEAD ETag %q Vary %q; want the GET's ETag %q and Vary: Accept-Encoding", etag, head.Header.Values("Vary"), get.Header.Get("ETag"))
	}
}

// A coded answer's ETag is weak (it is of the identity body); revalidating
// with it, or with the strong tag a client without Accept-Encoding got,
// answers 304 with no body and the weak tag, and Observe (outside the
// coder) records the 304.
func TestCodedAnswersRevalidate(t *testing.T) {
	srv, rec := restServer(t, nil)
	ae := map[string]string{"Accept-Encoding": "gzip"}
	coded, _ := fetch(t, "GET", srv.URL+eventsRoute, ae)
	plain, _ := fetch(t, "GET", srv.URL+eventsRoute, nil)
	weak, strong := coded.Header.Get("ETag"), plain.Header.Get("ETag")
	if coded.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(strong, `"`) || weak != "W/"+strong {
		t.Fatalf("coded ETag %q (%s), identity ETag %q; want W/ and the identity tag", weak, coded.Header.Get("Content-Encoding"), strong)
	}
	for _, inm := range []string{weak, strong} {
		resp, body := fetch(t, "GET", srv.URL+eventsRoute, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": inm})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("Content-Encoding") != "" ||
			resp.Header.Get("ETag") != weak || !varies(resp.Header, "Accept-Encoding") {
			t.Errorf("If-None-Match %s: %d %q Content-Encoding %q ETag %q Vary %q; want 304, no body, the weak ETag",
				inm, resp.StatusCode, body, resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"), resp.Header.Values("Vary"))
		}
	}
	if got := rec.statuses("GET /getEventsByUserId/{id}"); len(got) != 4 || got[2] != 304 || got[3] != 304 {
		t.Errorf("recorded statuses %v; want 200 200 304 304", got)
	}
}

// An answer its handler coded itself (the metrics handler gzips its own)
// passes untouched: coded once, not twice.
func TestAnswersAlreadyCodedAreLeftAlone(t *testing.T) {
	srv, _ := restServer(t, nil)
	fetch(t, "GET", srv.URL+eventsRoute, nil) // something to count
	resp, body := fetch(t, "GET", srv.URL+"/metrics", map[string]string{"Accept-Encoding": "gzip"})
	if ce := resp.Header.Values("Content-Encoding"); len(ce) != 1 || ce[0] != "gzip" {
		t.Fatalf("Content-Encoding %q; want gzip once", ce)
	}
	if text := decode(t, "gzip", body); !bytes.Contains(text, []byte("# HELP")) {
		t.Errorf("decoded once: %.200q; want the metrics text", text)
	}
}

// With COMPRESSION=off nothing is coded, nothing says Vary:
// Accept-Encoding, and ETags stay strong.
func TestCompressionOff(t *testing.T) {
	srv, _ := restServer(t, func(c *config.Config) { c.HTTP.Compression = false })
	resp, body := fetch(t, "GET", srv.URL+eventsRoute, map[string]string{"Accept-Encoding": "gzip, zstd"})
	if resp.Header.Get("Content-Encoding") != "" || varies(resp.Header, "Accept-Encoding") ||
		!strings.HasPrefix(resp.Header.Get("ETag"), `"`) || !json.Valid(body) {
		t.Errorf("Content-Encoding %q Vary %q ETag %q; want none, none, strong", resp.Header.Get("Content-Encoding"),
			resp.Header.Values("Vary"), resp.Header.Get("ETag"))
	}
}

// CORS sits outside the coder: a preflight is answered before it (no
// Vary: Accept-Encoding on a bodiless 204), and a cross-origin answer
// varies on both Origin and Accept-Encoding.
func TestCORSAndCompression(t *testing.T) {
	srv, _ := restServer(t, func(c *config.Config) { c.HTTP.CORSAllowedOrigins = []string{"https://app.example"} })
	pre, _ := fetch(t, "OPTIONS", srv.URL+eventsRoute, map[string]string{"Origin": "https://app.example",
		"Access-Control-Request-Method": "GET", "Accept-Encoding": "gzip"})
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		varies(pre.Header, "Accept-Encoding") {
		t.Errorf("preflight: %d %v; want 204 from CORS, without Vary: Accept-Encoding", pre.StatusCode, pre.Header)
	}
	resp, body := fetch(t, "GET", srv.URL+eventsRoute, map[string]string{"Origin": "https://app.example", "Accept-Encoding": "gzip"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Content-Encoding") != "gzip" ||
		!varies(resp.Header, "Origin") || !varies(resp.Header, "Accept-Encoding") || !json.Valid(decode(t, "gzip", body)) {
		t.Errorf("cross-origin GET: %v; want CORS headers, gzip, Vary: Origin and Accept-Encoding", resp.Header)
	}
}

// A handler's panic is answered by Observe, outside the coder: a plain
// JSON 500, whatever the client accepts.
func TestPanicUnderTheCoderAnswersPlain500(t *testing.T) {
	stack := &middleware.Stack{Log: servicetest.Discard(), RequestTimeout: time.Second, MaxBodyBytes: 1 << 10,
		MaxURLQueryBytes: 1 << 10, Compression: true, CompressMinBytes: 0}
	routes := stack.Routes()
	routes.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	srv := httptest.NewServer(stack.Handler(routes))
	defer srv.Close()
	resp, body := fetch(t, "GET", srv.URL+"/boom", map[string]string{"Accept-Encoding": "gzip"})
	var answer map[string]any
	if resp.StatusCode != 500 || resp.Header.Get("Content-Encoding") != "" || json.Unmarshal(body, &answer) != nil || answer["error"] != "Internal server error" {
		t.Errorf("%d Content-Encoding %q %q; want a plain JSON 500", resp.StatusCode, resp.Header.Get("Content-Encoding"), body)
	}
}
