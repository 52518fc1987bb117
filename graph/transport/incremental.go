package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// boundary separates the parts of a multipart/mixed answer. "-" is what
// gqlgen and Apollo Server send, and what Apollo Client's tests use.
const boundary = "-"

// partsKind is a form of answer in parts.
type partsKind int

const (
	partsMultipart partsKind = iota // multipart/mixed, deferSpec=20220824
	partsSSE                        // text/event-stream (graphql-sse's distinct connections mode)
)

// partsFormat is the form of answer in parts the client accepts, if any:
// multipart first, as Apollo Client and urql prefer it.
func partsFormat(r *http.Request) (partsKind, bool) {
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "multipart/mixed"):
		return partsMultipart, true
	case strings.Contains(accept, "text/event-stream"):
		return partsSSE, true
	}
	return 0, false
}

func (k partsKind) writer(w http.ResponseWriter) partWriter {
	if k == partsSSE {
		return &sseWriter{w: w}
	}
	return &multipartWriter{w: w}
}

// deferred answers a query with @defer in parts.
//
// gqlgen (v0.17.98) drops a deferred part whose context ends before the part
// is read, and then waits for it forever: a client that leaves, or a
// deadline that passes, would leave the request's goroutines behind for
// good. So the operation runs on a context that never ends (its upstream
// calls keep their own timeouts and retry budgets, which bound it), and a
// goroutine of its own reads every part to the end, whether anybody writes
// it or not. This request writes the parts as they come, until the last,
// the client leaving, or the request deadline; at the deadline it ends the
// answer with a last part carrying a REQUEST_TIMEOUT error and hasNext
// false, within the deadline. Streams.Wait waits for the executions still
// reading parts nobody will write.
//
// When nothing turns out deferred (gqlgen answers some deferred fragments
// at once), a multipart client gets one plain JSON answer: a one-part
// multipart answer without hasNext cannot be told complete.
func (s *Streams) deferred(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext, kind partsKind) {
	ctx := r.Context()
	responses, execCtx := exec.DispatchOperation(context.WithoutCancel(ctx), oc)
	parts := make(chan *graphql.Response)
	gone := make(chan struct{})
	s.drains.Go(func() {
		defer close(parts)
		for {
			resp := responses(execCtx)
			if resp == nil {
				return
			}
			select {
			case parts <- resp:
			case <-gone:
			}
		}
	})
	defer close(gone)

	out := kind.writer(w)
	first := true
	for {
		select {
		case resp, ok := <-parts:
			switch {
			case !ok:
				out.end()
				return
			case first && kind == partsMultipart && resp.HasNext == nil:
				w.Header().Set("Content-Type", responseType(r))
				writeResponse(w, http.StatusOK, resp)
				return
			case first:
				out.begin()
			}
			out.part(resp, first)
			first = false
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if first {
					out.begin()
				}
				out.timeout(&gqlerror.Error{
					Message:    "the request deadline (REQUEST_TIMEOUT) passed before the deferred parts were ready",
					Extensions: map[string]any{"code": CodeRequestTimeout},
				})
			}
			return // a client that left reads nothing more
		}
	}
}

// subscribe streams a subscription's events over SSE. A subscription lasts
// as long as its client wants: it outlives the request deadline
// (middleware.Lift) and the server's write timeout, and ends when the
// client leaves, when the subscription ends, or at shutdown. Streams are
// limited per process (SSE_MAX_STREAMS) and per client
// (SSE_MAX_STREAMS_PER_CLIENT); one past either is refused with 429 and
// TOO_MANY_STREAMS.
func (s *Streams) subscribe(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext) {
	kind, ok := partsFormat(r)
	if !ok || kind != partsSSE {
		// StreamsOnly refuses a subscription from a client that takes no
		// stream before it gets here; this is a guard, not a path.
		writeError(w, r, http.StatusBadRequest, CodeSubscriptionTransport, "subscriptions need a stream")
		return
	}
	peer := s.set.ClientKey(r)
	if reason := s.openSSE(peer); reason != "" {
		w.Header().Set("Retry-After", "5")
		writeError(w, r, http.StatusTooManyRequests, CodeTooManyStreams, reason)
		return
	}
	defer s.closeSSE(peer)
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	ctx, cancel := context.WithCancel(middleware.Lift(r.Context()))
	defer cancel()
	stopOnShutdown := context.AfterFunc(s.ctx, cancel)
	defer stopOnShutdown()

	responses, ctx := exec.DispatchOperation(ctx, oc)
	out := kind.writer(w)
	out.begin()
	for {
		resp := responses(ctx)
		if resp == nil || ctx.Err() != nil {
			break
		}
		out.part(resp, true)
	}
	if ctx.Err() == nil || s.ctx.Err() != nil {
		out.end()
	}
}

// writeCreateErrors answers a request whose operation could not be
// created (parse, validation, a limit), as execute does.
func writeCreateErrors(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext, errs gqlerror.List) {
	w.Header().Set("Content-Type", responseType(r))
	status := statusOf(r, errs)
	if secs, limited := retryAfter(errs); limited {
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), oc), errs)
	writeRequestErrors(w, status, resp.Errors, resp.Extensions)
}

// retryAfter finds a refused budget among errs (RATE_LIMITED): its answer
// is 429 with Retry-After, whatever the client accepts.
func retryAfter(errs gqlerror.List) (int, bool) {
	for _, e := range errs {
		if e.Extensions["code"] == codeRateLimited {
			secs, _ := e.Extensions["retryAfter"].(int)
			return max(secs, 1), true
		}
	}
	return 0, false
}

// partWriter writes an answer in parts in one format.
type partWriter interface {
	begin()
	part(resp *graphql.Response, first bool)
	timeout(err *gqlerror.Error)
	end()
}

// multipartWriter writes multipart/mixed with deferSpec=20220824: the first
// part is {data, hasNext}, later parts {incremental: [{data, path, label,
// errors}], hasNext}.
type multipartWriter struct{ w http.ResponseWriter }

func (m *multipartWriter) begin() {
	h := m.w.Header()
	h.Set("Content-Type", `multipart/mixed; boundary="`+boundary+`"; deferSpec=20220824`)
	h.Set("Cache-Control", "no-cache")
	m.w.WriteHeader(http.StatusOK)
}

func (m *multipartWriter) part(resp *graphql.Response, first bool) {
	var v any = resp
	if !first {
		hasNext := resp.HasNext != nil && *resp.HasNext
		v = struct {
			Incremental []incrementalItem `json:"incremental"`
			HasNext     bool              `json:"hasNext"`
		}{[]incrementalItem{{Data: resp.Data, Path: resp.Path, Label: resp.Label, Errors: resp.Errors, Extensions: resp.Extensions}}, hasNext}
	}
	m.write(v)
}

func (m *multipartWriter) timeout(err *gqlerror.Error) {
	m.write(struct {
		HasNext bool          `json:"hasNext"`
		Errors  gqlerror.List `json:"errors"`
	}{false, gqlerror.List{err}})
	m.end()
}

func (m *multipartWriter) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("marshal a part: %w", err))
	}
	_, _ = fmt.Fprintf(m.w, "\r\n--%s\r\nContent-Type: application/json; charset=utf-8\r\n\r\n", boundary)
	_, _ = m.w.Write(b)
	flush(m.w)
}

func (m *multipartWriter) end() {
	_, _ = fmt.Fprintf(m.w, "\r\n--%s--\r\n", boundary)
	flush(m.w)
}

// incrementalItem is one entry of a later part's incremental list.
type incrementalItem struct {
	Data       json.RawMessage `json:"data"`
	Path       any             `json:"path"`
	Label      string          `json:"label,omitempty"`
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// sseWriter writes text/event-stream as graphql-sse's distinct connections
// mode: a next event per part (each the response as gqlgen gives it), then
// complete.
type sseWriter struct{ w http.ResponseWriter }

func (e *sseWriter) begin() {
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	e.w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(e.w, ":\n\n")
	flush(e.w) // the client knows the stream is open before the first event
}

func (e *sseWriter) part(resp *graphql.Response, _ bool) { e.next(resp) }

func (e *sseWriter) timeout(err *gqlerror.Error) {
	e.next(struct {
		HasNext bool          `json:"hasNext"`
		Errors  gqlerror.List `json:"errors"`
	}{false, gqlerror.List{err}})
	e.end()
}

func (e *sseWriter) next(v any) {
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
