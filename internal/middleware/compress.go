package middleware

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"

	"github.com/eventms/gateway/internal/httpcache"
)

// Compress content-codes next's answers for clients that ask
// (Accept-Encoding), with klauspost/compress's gzhttp: zstd when the
// client takes it (it prefers zstd on equal q-values), else gzip; answers
// of fewer than minBytes bytes go as they are. Every answer it passes
// says Vary: Accept-Encoding. It never codes an answer that already has a
// Content-Encoding (the metrics handler codes its own), a 304 or any
// bodiless answer, nor a HEAD answer (gzhttp's rule); it does not touch a
// request that upgrades its connection (a WebSocket) at all.
//
// A streamed answer (multipart/mixed, text/event-stream) is coded part by
// part: each Flush of the handler flushes the coder, so a client decodes
// a part as soon as it arrives. An answer that can last as long as its
// client wants (a request for text/event-stream or a multipart
// subscription) is gzip-coded statelessly, each flush on its own: a
// pooled coder kept for the life of a stream would hold 0.8 MB (gzip) or
// 0.6 MB (zstd) per subscriber, the stateless one a few kB
// (BenchmarkOpenStreamMemory).
//
// Inner layers compute ETags over the identity body, so Compress marks
// the request (httpcache.WithWeakETags) and cached answers carry weak
// tags. minBytes must not be negative (config checks COMPRESS_MIN_BYTES).
func Compress(minBytes int, next http.Handler) http.Handler {
	// gzip at its fastest level: on the gateway's JSON its answers are a
	// few percent larger than at the default level, for half its CPU or less.
	answers := mustWrap(gzhttp.NewWrapper(gzhttp.MinSize(minBytes), gzhttp.CompressionLevel(gzip.BestSpeed)))(next)
	streams := mustWrap(gzhttp.NewWrapper(gzhttp.MinSize(minBytes), gzhttp.CompressionLevel(gzip.StatelessCompression),
		gzhttp.EnableZstd(false)))(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Accept-Encoding") != "" {
			r = r.WithContext(httpcache.WithWeakETags(r.Context()))
		}
		if longLived(r) {
			streams.ServeHTTP(w, r)
			return
		}
		answers.ServeHTTP(w, r)
	})
}

// mustWrap takes gzhttp.NewWrapper's result: its options here fail only
// with a negative minimum size, a programming error.
func mustWrap(wrap func(http.Handler) http.HandlerFunc, err error) func(http.Handler) http.HandlerFunc {
	if err != nil {
		panic(fmt.Sprintf("middleware.Compress: %v", err))
	}
	return wrap
}

// longLived reports whether r asks for an answer that may stay open as
// long as its client wants: an SSE stream, or a subscription over
// multipart HTTP (Apollo's subscriptionSpec).
func longLived(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/event-stream") || strings.Contains(accept, "subscriptionSpec")
}
