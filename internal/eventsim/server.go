package eventsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is a simulator serving HTTP on its own listener.
type Server struct {
	*Sim
	// URL is the base URL of the simulated Event API, e.g.
	// http://127.0.0.1:41234; when it listens on every interface (addr ":4000"),
	// http://localhost:4000.
	URL  string
	srv  *http.Server
	done chan error
}

// Start serves a new simulator on addr ("127.0.0.1:0" picks a free loopback
// port, ":4000" listens on every interface).
func Start(cfg Config, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("event API simulator: listen on %s: %w", addr, err)
	}
	s := &Server{
		Sim:  New(cfg),
		URL:  baseURL(ln.Addr()),
		done: make(chan error, 1),
	}
	s.srv = &http.Server{Handler: s.Sim, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Close stops the simulator, letting in-flight requests finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; err == nil {
		err = serveErr
	}
	return err
}

// baseURL is the URL a client on this machine reaches addr by.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
