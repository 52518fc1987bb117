package transport

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// partsKind is a form of answer in parts.
type partsKind int

const (
	partsDefer20220824  partsKind = iota // multipart/mixed;deferSpec=20220824 (Apollo Client's Defer20220824Handler, urql)
	partsIncrementalV02                  // multipart/mixed;incrementalSpec=v0.2 (graphql-js 17 alpha 9, Apollo Client 4's GraphQL17Alpha9Handler)
	partsSSE                             // text/event-stream (graphql-sse's distinct connections mode)
	partsSubscription                    // multipart/mixed;subscriptionSpec=1.0 (Apollo's multipart subscriptions)
)

// partsFormat is the form of answer in parts the client accepts for a
// deferred query (subscription false) or a subscription, if any: the first
// the Accept header lists that fits.
func partsFormat(r *http.Request, subscription bool) (partsKind, bool) {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "text/event-stream":
			return partsSSE, true
		case mt != "multipart/mixed":
		case subscription && params["subscriptionspec"] != "":
			return partsSubscription, true
		case subscription:
		case params["incrementalspec"] != "":
			return partsIncrementalV02, true
		default:
			return partsDefer20220824, true
		}
	}
	return 0, false
}

// writer returns the writer of k's parts to w.
func (k partsKind) writer(w http.ResponseWriter) partWriter {
	switch k {
	case partsSSE:
		return &sseWriter{w: w}
	case partsIncrementalV02:
		return &multipartWriter{w: w, boundary: "-", spec: "incrementalSpec=v0.2"}
	case partsSubscription:
		return &multipartWriter{w: w, boundary: "graphql", spec: `subscriptionSpec="1.0"`}
	}
	return &multipartWriter{w: w, boundary: "-", spec: "deferSpec=20220824"}
}

// partWriter writes an answer in parts in one framing.
type partWriter interface {
	begin()
	write(payload any)
	end()
}

// multipartWriter frames parts as multipart/mixed (RFC 1341, the GraphQL
// incremental delivery over HTTP RFC): each part JSON, each flushed as it
// is written, followed at once by the delimiter that ends it. Apollo
// Client and urql hand a part over only once they read the delimiter after
// it, so a part whose delimiter waited for the next part would reach the
// application one part late (Apollo Server frames the same way).
type multipartWriter struct {
	w        http.ResponseWriter
	boundary string
	spec     string // the media type's parameter naming the format
}

func (m *multipartWriter) begin() {
	h := m.w.Header()
	h.Set("Content-Type", `multipart/mixed; boundary="`+m.boundary+`"; `+m.spec)
	h.Set("Cache-Control", "no-cache")
	m.w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprintf(m.w, "\r\n--%s", m.boundary)
	flush(m.w)
}

func (m *multipartWriter) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("marshal a part: %w", err))
	}
	_, _ = fmt.Fprint(m.w, "\r\nContent-Type: application/json; charset=utf-8\r\n\r\n")
	_, _ = m.w.Write(b)
	_, _ = fmt.Fprintf(m.w, "\r\n--%s", m.boundary)
	flush(m.w)
}

// end closes the last delimiter: "--" after it makes it the close delimiter.
func (m *multipartWriter) end() {
	_, _ = fmt.Fprint(m.w, "--\r\n")
	flush(m.w)
}

// sseWriter frames parts as text/event-stream, graphql-sse's distinct
// connections mode: a next event per part, then complete.
type sseWriter struct{ w http.ResponseWriter }

func (e *sseWriter) begin() {
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	e.w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(e.w, ":\n\n")
	flush(e.w) // the client knows the stream is open before the first event
}

func (e *sseWriter) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("marshal an event: %w", err))
	}
	_, _ = fmt.Fprintf(e.w, "event: next\ndata: %s\n\n", b)
	flush(e.w)
}

func (e *sseWriter) end() {
	_, _ = fmt.Fprint(e.w, "event: complete\n\n")
	flush(e.w)
}

func flush(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() }
