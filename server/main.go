// Command server runs the Event Management System gateway. With no
// EVENT_API_BASE_URL it starts an embedded Event API simulator first, so it
// runs on a fresh machine with nothing else to install.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/httpserver"
	"github.com/eventms/gateway/internal/platform/logging"
	"github.com/eventms/gateway/internal/platform/tracing"
)

// settings are the gateway's configuration and, used only when it embeds
// the simulator, the simulator's own.
type settings struct {
	config.Config
	sim eventsim.Config
}

func main() {
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
	var sim eventsim.Config
	if cfg.EventAPIBaseURL == "" {
		// After config.FromEnv, so SIM_* variables from .env count too.
		if sim, err = eventsim.ConfigFromEnv(os.LookupEnv); err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			os.Exit(2)
		}
	}
	log := logging.New(os.Stderr, cfg.Log.Format, cfg.Log.Level)
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := tracing.Setup(ctx, "dev")
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
	err = run(ctx, settings{Config: cfg, sim: sim}, log, nil)
	// Flush the last spans; a collector that is gone must not hold the exit.
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = shutdownTracing(fctx)
	cancel()
	if err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then drains (httpserver.Serve): /readyz turns
// 503, new requests are still served for SHUTDOWN_DRAIN_DELAY, streams end,
// and in-flight requests get up to SHUTDOWN_TIMEOUT to finish. listening,
// if set, receives the address.
func run(ctx context.Context, cfg settings, log *slog.Logger, listening func(addr string)) error {
	baseURL := cfg.EventAPIBaseURL
	if baseURL == "" {
		sim, err := eventsim.Start(cfg.sim, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer sim.Close(context.Background())
		baseURL = sim.URL
		log.Info("EVENT_API_BASE_URL not set: using the embedded Event API simulator",
			"url", sim.URL, "event_delay", cfg.sim.EventDelay.String(), "network_error_rate", cfg.sim.NetworkErrorRate,
			"failure_cycle", cfg.sim.FailureCycle, "extra_users", cfg.sim.Users, "events_per_user", cfg.sim.EventsPerUser)
	}

	a, err := newApp(cfg.Config, baseURL, log, time.Now)
	if err != nil {
		return err
	}
	defer a.close()

	ln, err := net.Listen("tcp", cfg.ListenAddress())
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR, PORT): %w", cfg.ListenAddress(), err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("gateway listening", "addr", ln.Addr().String(), "env", cfg.Env,
		"graphql", "/graphql", "ide", cfg.GraphQL.IDE, "introspection", cfg.GraphQL.Introspection)
	if listening != nil {
		listening(ln.Addr().String())
	}
	return httpserver.Serve(ctx, srv, ln, httpserver.Drain{Begin: a.health.Drain, Delay: cfg.HTTP.ShutdownDrainDelay,
		EndStreams: a.endStreams, Timeout: cfg.HTTP.ShutdownTimeout}, log)
}
