package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/eventms/gateway/internal/middleware"
)

// BenchmarkOpenStreamMemory reports the heap an open coded stream holds
// between two events (held-B/stream), 100 streams open at once per
// operation: an SSE request's stateless gzip coder, and for comparison the
// pooled coders Compress gives other answers, as a stream would hold them
// if it got one.
func BenchmarkOpenStreamMemory(b *testing.B) {
	for _, tc := range []struct{ name, accept, coding string }{
		{"sse/gzip-stateless", "text/event-stream", "gzip"},
		{"pooled/gzip", "application/json", "gzip"},
		{"pooled/zstd", "application/json", "zstd"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const streams = 100
			var held uint64
			for b.Loop() {
				held = openStreams(b, streams, tc.accept, tc.coding)
			}
			b.ReportMetric(float64(held)/streams, "held-B/stream")
		})
	}
}

// openStreams opens n streams through Compress, each having sent one event,
// and returns the heap they hold then.
func openStreams(b *testing.B, n int, accept, coding string) uint64 {
	release := make(chan struct{})
	var opened, done sync.WaitGroup
	opened.Add(n)
	done.Add(n)
	h := middleware.Compress(1024, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: next\ndata: {\"data\":{\"eventAdded\":{\"id\":\"event-17\",\"name\":\"Pushed\"}}}\n\n")
		w.(http.Flusher).Flush()
		opened.Done()
		<-release
	}))
	var before, after runtime.MemStats
	runtime.GC() // twice: the coders' pools keep what they held through one
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		go func() {
			defer done.Done()
			req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			req.Header.Set("Accept", accept)
			req.Header.Set("Accept-Encoding", coding)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Header().Get("Content-Encoding") != coding {
				b.Errorf("Content-Encoding %q; want %s", rec.Header().Get("Content-Encoding"), coding)
			}
		}()
	}
	opened.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	close(release)
	done.Wait()
	return after.HeapAlloc - before.HeapAlloc
}
