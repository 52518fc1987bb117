package transport

import (
	"fmt"
)

// openSSE counts an HTTP stream in (SSE or multipart: they share the
// limits), or says why it may not open.
func (s *Streams) openSSE(peer string) string {
	limits := s.set.Realtime
	s.sseMu.Lock()
	defer s.sseMu.Unlock()
	switch {
	case s.sse >= limits.MaxSSEStreams:
		return fmt.Sprintf("too many HTTP streams (SSE, multipart) on this server (the limit is SSE_MAX_STREAMS, %d)", limits.MaxSSEStreams)
	case s.sseByPeer[peer] >= limits.MaxSSEStreamsPerClient:
		return fmt.Sprintf("too many HTTP streams (SSE, multipart) from this client (the limit is SSE_MAX_STREAMS_PER_CLIENT, %d)", limits.MaxSSEStreamsPerClient)
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
