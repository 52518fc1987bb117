package transport

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/eventms/gateway/internal/middleware"
)

// subscribeSSE serves a subscription over SSE with gqlgen's transport. A
// subscription lasts as long as its client wants: it outlives the request
// deadline (middleware.Lift) and the server's write timeout, and ends when
// the client leaves or at shutdown. Streams are limited per process
// (SSE_MAX_STREAMS) and per client (SSE_MAX_STREAMS_PER_CLIENT); one past
// either is refused with 429 and TOO_MANY_STREAMS.
func (s *Streams) subscribeSSE(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, sse graphql.Transport) {
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
	normalized(sse).Do(w, r.WithContext(ctx), exec)
}

// openSSE counts a stream in, or says why it may not open.
func (s *Streams) openSSE(peer string) string {
	limits := s.set.Realtime
	s.sseMu.Lock()
	defer s.sseMu.Unlock()
	switch {
	case s.sse >= limits.MaxSSEStreams:
		return fmt.Sprintf("too many SSE streams on this server (the limit is SSE_MAX_STREAMS, %d)", limits.MaxSSEStreams)
	case s.sseByPeer[peer] >= limits.MaxSSEStreamsPerClient:
		return fmt.Sprintf("too many SSE streams from this client (the limit is SSE_MAX_STREAMS_PER_CLIENT, %d)", limits.MaxSSEStreamsPerClient)
	}
	s.sse++
	s.sseByPeer[peer]++
	return ""
}

func (s *Streams) closeSSE(peer string) {
	s.sseMu.Lock()
	defer s.sseMu.Unlock()
	s.sse--
	if s.sseByPeer[peer]--; s.sseByPeer[peer] <= 0 {
		delete(s.sseByPeer, peer)
	}
}
