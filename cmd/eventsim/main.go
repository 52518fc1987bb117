// Command eventsim runs the Event API simulator alone, as a plain HTTP
// server on SIM_PORT (default 4000), tuned by the same SIM_* variables as the
// embedded one. Point a gateway at it with EVENT_API_BASE_URL.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/logging"
)

func main() {
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventsim:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	sim, err := eventsim.Start(cfg.Sim, net.JoinHostPort("", strconv.Itoa(cfg.SimPort)))
	if err != nil {
		log.Error("simulator did not start", "err", err)
		os.Exit(1)
	}
	log.Info("Event API simulator listening", "url", sim.URL, "event_delay", cfg.Sim.EventDelay.String(),
		"network_error_rate", cfg.Sim.NetworkErrorRate, "failure_cycle", cfg.Sim.FailureCycle,
		"extra_users", cfg.Sim.Users, "events_per_user", cfg.Sim.EventsPerUser)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sim.Close(shutdownCtx); err != nil {
		log.Error("simulator stopped uncleanly", "err", err)
		os.Exit(1)
	}
}
