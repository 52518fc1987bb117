package graph_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// BenchmarkCompression reports what coding costs and saves on two GraphQL
// answers: the users list with their event ids (23 users, 4004 ids, 70 kB
// of JSON) and one user with 200 events (15 kB). For each, as it is
// (identity), in gzip and in zstd:
//
//   - request: the whole request through the server's stack, the entity
//     cache on and fresh through the run (every lookup a hit, so the
//     figures are the gateway's own work, coding included);
//   - coder: middleware.Compress alone, coding that answer's body, which
//     is the CPU coding adds to a request, without the noise of the rest.
//
// wire-bytes/op is the answer's body as sent; cpu-ns/op the process's CPU.
// Run it with -cpu 1 and -count, and compare medians.
func BenchmarkCompression(b *testing.B) {
	g := graphtest.New(b, eventsim.Config{Users: 20, EventsPerUser: 200}, func(c *config.Config) {
		c.Cache.Enabled = true
		c.Cache.Entity.Fresh = time.Hour
	})
	for _, q := range []struct{ name, query string }{
		{"users", `{ users { id userName email events { id } } }`},
		{"user200", `{ user(id: "u1") { id userName email events { id name userId details } } }`},
	} {
		post := []byte(servicetest.GraphQLBody(q.query))
		request := func(coding string) *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(post))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept-Encoding", coding)
			return req
		}
		first := httptest.NewRecorder()
		g.Handler.ServeHTTP(first, request("identity"))
		answer, contentType := first.Body.Bytes(), first.Header().Get("Content-Type")
		coder := middleware.Compress(1024, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			_, _ = w.Write(answer)
		}))
		for _, coding := range []string{"identity", "gzip", "zstd"} {
			for _, layer := range []struct {
				name string
				h    http.Handler
			}{{"request", g.Handler}, {"coder", coder}} {
				b.Run(q.name+"/"+layer.name+"/"+coding, func(b *testing.B) {
					benchServe(b, layer.h, func() *http.Request { return request(coding) }, coding)
				})
			}
		}
	}
}

// benchServe serves req() to h until the benchmark ends, checking the
// first answer's coding, and reports the bytes of the last answer's body
// and the CPU per request.
func benchServe(b *testing.B, h http.Handler, req func() *http.Request, coding string) {
	want := coding
	if coding == "identity" {
		want = ""
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req())
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != want {
		b.Fatalf("%d Content-Encoding %q; want 200 %q", rec.Code, rec.Header().Get("Content-Encoding"), want)
	}
	b.ReportAllocs()
	stop := servicetest.ReportCPU(b)
	for b.Loop() {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req())
	}
	stop()
	b.ReportMetric(float64(rec.Body.Len()), "wire-bytes/op")
}
