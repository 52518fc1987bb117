// Command server runs the Event Management System gateway. With no
// EVENT_API_BASE_URL it starts an embedded Event API simulator first, so it
// runs on a fresh machine with nothing else to install.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/eventms/gateway/internal/app"
	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventsim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := newLogger(cfg)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	baseURL := cfg.EventAPIBaseURL
	if baseURL == "" {
		sim, err := eventsim.Start(cfg.Sim, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer sim.Close(context.Background())
		baseURL = sim.URL
		log.Info("EVENT_API_BASE_URL not set: using the embedded Event API simulator",
			"url", sim.URL, "event_delay", cfg.Sim.EventDelay, "network_error_rate", cfg.Sim.NetworkErrorRate,
			"failure_cycle", cfg.Sim.FailureCycle)
	}

	gw, err := app.New(cfg, baseURL, log)
	if err != nil {
		return err
	}
	defer gw.Close()

	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	srv := &http.Server{
		Handler:           gw.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("gateway listening", "addr", ln.Addr().String(), "graphql", "/graphql", "ide", "/")

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
