// Command eventsim runs the Event API simulator alone, as a plain HTTP server
// on SIM_LISTEN_ADDR (default 127.0.0.1, the loopback only; 0.0.0.0 for
// every interface) and SIM_PORT (default 4000). Point a gateway at it with
// EVENT_API_BASE_URL=http://127.0.0.1:4000.
//
// It reads only its SIM_* variables from the process environment (no .env
// file): SIM_EVENT_DELAY, SIM_NETWORK_ERROR_RATE, SIM_FAILURE_CYCLE,
// SIM_USERS, SIM_EVENTS_PER_USER, SIM_CAPACITY, SIM_OVERLOAD_FACTOR (as the
// embedded simulator), SIM_LISTEN_ADDR, SIM_PORT,
// SIM_LOG_FORMAT and SIM_LOG_LEVEL; see eventsim.SettingsFromEnv. The
// gateway's variables (APP_ENV, PORT, LOG_LEVEL, …) never affect it. An
// invalid SIM_* variable stops it with exit status 2 and a message naming
// every bad one.
//
// Besides the Event API routes it serves GET /__stats (calls per route, peak
// in-flight) and POST /__reset (?data=1 also restores the seed data). It
// stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.LookupEnv, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// shutdownTimeout is how long in-flight requests get to finish on shutdown.
const shutdownTimeout = 5 * time.Second

// run serves the simulator configured through lookup until ctx ends and
// returns the process exit status: 0 after a clean stop, 1 if it could not
// listen or stop cleanly, 2 on invalid settings. listening, if set, receives
// the simulator's base URL once it accepts connections.
func run(ctx context.Context, lookup func(string) (string, bool), stderr io.Writer, listening func(url string)) int {
	set, err := eventsim.SettingsFromEnv(lookup)
	if err != nil {
		fmt.Fprintln(stderr, "eventsim:", err)
		return 2
	}
	log := newLogger(stderr, set.LogFormat, set.LogLevel)
	sim, err := eventsim.Start(set.Config, set.Address())
	if err != nil {
		log.Error("simulator did not start", "err", err)
		return 1
	}
	c := set.Config
	log.Info("Event API simulator listening", "url", sim.URL, "stats", sim.URL+eventsim.StatsPath,
		"event_delay", c.EventDelay.String(), "network_error_rate", c.NetworkErrorRate,
		"failure_cycle", c.FailureCycle, "extra_users", c.Users, "events_per_user", c.EventsPerUser)
	if listening != nil {
		listening(sim.URL)
	}
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := sim.Close(shutdownCtx); err != nil {
		log.Error("simulator stopped uncleanly", "err", err)
		return 1
	}
	log.Info("simulator stopped")
	return 0
}

// newLogger returns a text or JSON (format "json") slog logger writing to w at
// level; SettingsFromEnv has validated both.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
