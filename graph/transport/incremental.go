package transport

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/middleware"
)

// deferred answers a query with @defer in parts, in the format the client
// asked for (deferShaper).
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
// When nothing turns out deferred, a multipart client gets one plain JSON
// answer: a one-part multipart answer without hasNext cannot be told
// complete.
func (s *Streams) deferred(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext, kind partsKind) {
	ctx := r.Context()
	shaper := &deferShaper{plan: newDeferPlan(oc.Operation, oc.Doc.Fragments, oc.Variables), v02: kind == partsIncrementalV02}
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
	first, more := true, true
	for {
		select {
		case resp, ok := <-parts:
			var payload any
			var err error
			switch {
			case !ok && first:
				return // no answer at all: nothing to write
			case !ok:
				if more { // gqlgen ended without its last part saying so
					out.write(shaper.rest())
				}
				out.end()
				return
			case first:
				if payload, more, err = shaper.initial(resp); err == nil && !more && kind != partsSSE {
					w.Header().Set("Content-Type", responseType(r))
					writeResponse(w, http.StatusOK, resp)
					return
				}
				out.begin()
				first = false
			default:
				payload, more, err = shaper.next(resp)
			}
			if err != nil {
				payload, more = lastPart(&gqlerror.Error{Message: "a deferred part could not be read",
					Extensions: map[string]any{"code": CodeInternal}}), false
			}
			out.write(payload)
			if !more {
				out.end()
				return
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if first {
					out.begin()
				}
				out.write(lastPart(&gqlerror.Error{
					Message:    "the request deadline (REQUEST_TIMEOUT) passed before the deferred parts were ready",
					Extensions: map[string]any{"code": CodeRequestTimeout},
				}))
				out.end()
			}
			return // a client that left reads nothing more
		}
	}
}

// lastPart ends an answer in parts with err.
func lastPart(err *gqlerror.Error) any {
	return struct {
		HasNext bool          `json:"hasNext"`
		Errors  gqlerror.List `json:"errors"`
	}{false, gqlerror.List{err}}
}

// heartbeat is how often a multipart subscription sends its empty part,
// as Apollo's protocol asks, so proxies keep the connection.
const heartbeat = 5 * time.Second

// subscribe streams a subscription's events: over SSE (a next event each),
// or Apollo's multipart subscription protocol (a {"payload": …} part each,
// an empty {} part as heartbeat, a {"payload": null, "errors": […]} part
// for an error that ends the stream). A subscription lasts as long as its
// client wants: it outlives the request deadline (middleware.Lift) and the
// server's write timeout, and ends when the client leaves, when the
// subscription ends, or at shutdown. Streams are limited per process
// (SSE_MAX_STREAMS) and per client (SSE_MAX_STREAMS_PER_CLIENT); one past
// either is refused with 429 and TOO_MANY_STREAMS.
func (s *Streams) subscribe(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext) {
	kind, ok := partsFormat(r, true)
	if !ok {
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
	events := make(chan *graphql.Response)
	go func() { // ends when the subscription does: cancel ends it
		defer close(events)
		for {
			resp := responses(ctx)
			if resp == nil {
				return
			}
			select {
			case events <- resp:
			case <-ctx.Done():
				return
			}
		}
	}()
	out := kind.writer(w)
	out.begin()
	var beat <-chan time.Time
	if kind == partsSubscription {
		out.write(struct{}{})
		ticker := time.NewTicker(s.set.Heartbeat)
		defer ticker.Stop()
		beat = ticker.C
	}
	for {
		select {
		case resp, ok := <-events:
			if !ok {
				if s.ctx.Err() == nil && r.Context().Err() == nil {
					out.end()
				}
				return
			}
			if kind != partsSubscription {
				out.write(resp)
				continue
			}
			if resp.Data == nil && len(resp.Errors) > 0 { // the subscription failed: it ends
				out.write(struct {
					Payload any           `json:"payload"`
					Errors  gqlerror.List `json:"errors"`
				}{nil, resp.Errors})
				out.end()
				return
			}
			out.write(struct {
				Payload *graphql.Response `json:"payload"`
			}{resp})
		case <-beat:
			out.write(struct{}{})
		case <-ctx.Done():
			if s.ctx.Err() != nil { // shutdown: say it is the end
				out.end()
			}
			return
		}
	}
}
