// Package httpserver serves the gateway's HTTP server and stops it the way
// a replica behind a load balancer must: readiness turns 503 first, new
// requests are still served for a delay while the balancers notice, then
// the streams (which Shutdown does not wait for) are ended "going away" so
// their clients reconnect elsewhere, and in-flight requests get a bounded
// time to finish. net/http gives Shutdown; the order around it is ours.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Drain is how Serve stops once its context ends, in the order of the
// fields.
type Drain struct {
	// Begin runs first: the readiness probe turns 503 (health.Checker.Drain).
	Begin func()
	// Delay is how long new requests are still served after Begin
	// (SHUTDOWN_DRAIN_DELAY): load balancers need a moment to notice.
	Delay time.Duration
	// EndStreams runs when the delay is over, before Shutdown: hijacked
	// connections (WebSockets) and subscriptions are not requests Shutdown
	// waits for.
	EndStreams func()
	// Timeout bounds the wait for in-flight requests (SHUTDOWN_TIMEOUT).
	Timeout time.Duration
	// After is the delay's clock; nil: time.After.
	After func(time.Duration) <-chan time.Time
}

// Serve serves srv on ln until ctx ends, then stops as d says. It returns
// nil after a clean stop, an error when serving failed or when in-flight
// requests outlived d.Timeout (their connections are then closed).
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, d Drain, log *slog.Logger) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if d.Begin != nil {
		d.Begin()
	}
	log.Info("shutting down: draining", "drain_delay", d.Delay.String(), "timeout", d.Timeout.String())
	after := d.After
	if after == nil {
		after = time.After
	}
	<-after(d.Delay)
	if d.EndStreams != nil {
		d.EndStreams()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: in-flight requests did not finish within %s: %w", d.Timeout, err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}
