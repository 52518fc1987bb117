// Package config reads the gateway's settings from environment variables and
// validates them at start-up. Every variable is listed in the README.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

// Config is the whole configuration of the gateway.
type Config struct {
	// Port the gateway listens on (PORT).
	Port int
	// EventAPIBaseURL is the upstream; empty starts the embedded simulator.
	EventAPIBaseURL string

	UpstreamTimeout        time.Duration
	UpstreamMaxRetries     int
	UpstreamRetryBase      time.Duration
	UpstreamRetryMax       time.Duration
	UpstreamMaxConcurrency int
	LoaderBatchWait        time.Duration

	BreakerFailureThreshold int
	BreakerFailureWindow    time.Duration
	BreakerResetTimeout     time.Duration
	BreakerMaxResetTimeout  time.Duration
	BreakerJitter           float64

	IdempotencyTTL     time.Duration
	IdempotencyMaxKeys int

	LogLevel  string
	LogFormat string

	// Sim configures the embedded simulator, used when EventAPIBaseURL is empty.
	Sim eventsim.Config
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return Load(os.LookupEnv) }

// Load reads the configuration through lookup and reports every invalid
// variable, naming it and the accepted form.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := &reader{lookup: lookup}
	c := Config{
		Port:                    r.integer("PORT", 3000, 0, 65535),
		EventAPIBaseURL:         r.str("EVENT_API_BASE_URL", ""),
		UpstreamTimeout:         r.duration("UPSTREAM_TIMEOUT", 2*time.Second, time.Millisecond, 5*time.Minute),
		UpstreamMaxRetries:      r.integer("UPSTREAM_MAX_RETRIES", 3, 0, 10),
		UpstreamRetryBase:       r.duration("UPSTREAM_RETRY_BASE", 50*time.Millisecond, 0, time.Minute),
		UpstreamRetryMax:        r.duration("UPSTREAM_RETRY_MAX", time.Second, 0, 5*time.Minute),
		UpstreamMaxConcurrency:  r.integer("UPSTREAM_MAX_CONCURRENCY", 128, 1, 100000),
		LoaderBatchWait:         r.duration("LOADER_BATCH_WAIT", 200*time.Microsecond, 0, time.Second),
		BreakerFailureThreshold: r.integer("CIRCUIT_BREAKER_FAILURE_THRESHOLD", 3, 1, 1000),
		BreakerFailureWindow:    r.millis("CIRCUIT_BREAKER_FAILURE_WINDOW_MS", 30*time.Second, time.Millisecond, 24*time.Hour),
		BreakerResetTimeout:     r.millis("CIRCUIT_BREAKER_RESET_TIMEOUT_MS", 10*time.Second, time.Millisecond, 24*time.Hour),
		BreakerMaxResetTimeout:  r.millis("CIRCUIT_BREAKER_MAX_RESET_TIMEOUT_MS", 60*time.Second, time.Millisecond, 24*time.Hour),
		BreakerJitter:           r.float("CIRCUIT_BREAKER_JITTER", 0.1, 0, 1),
		IdempotencyTTL:          r.duration("IDEMPOTENCY_TTL", 24*time.Hour, time.Second, 30*24*time.Hour),
		IdempotencyMaxKeys:      r.integer("IDEMPOTENCY_MAX_KEYS", 100000, 1, 10000000),
		LogLevel:                r.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:               r.oneOf("LOG_FORMAT", "text", "text", "json"),
	}
	sim := eventsim.Defaults()
	c.Sim = eventsim.Config{
		EventDelay:       r.duration("SIM_EVENT_DELAY", sim.EventDelay, 0, time.Minute),
		NetworkErrorRate: r.float("SIM_NETWORK_ERROR_RATE", sim.NetworkErrorRate, 0, 1),
		FailureCycle:     r.boolean("SIM_FAILURE_CYCLE", sim.FailureCycle),
		FailureDelay:     sim.FailureDelay,
		Users:            r.integer("SIM_USERS", 0, 0, 100000),
		EventsPerUser:    r.integer("SIM_EVENTS_PER_USER", 0, 0, 100000),
	}
	if c.EventAPIBaseURL != "" {
		if u, err := url.Parse(c.EventAPIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.fail("EVENT_API_BASE_URL", c.EventAPIBaseURL, "an http:// or https:// URL with a host, e.g. http://localhost:4000")
		}
	}
	if c.UpstreamRetryMax < c.UpstreamRetryBase {
		r.fail("UPSTREAM_RETRY_MAX", c.UpstreamRetryMax.String(), fmt.Sprintf("at least UPSTREAM_RETRY_BASE (%s)", c.UpstreamRetryBase))
	}
	if c.BreakerMaxResetTimeout < c.BreakerResetTimeout {
		r.fail("CIRCUIT_BREAKER_MAX_RESET_TIMEOUT_MS", fmt.Sprint(c.BreakerMaxResetTimeout.Milliseconds()),
			fmt.Sprintf("at least CIRCUIT_BREAKER_RESET_TIMEOUT_MS (%d)", c.BreakerResetTimeout.Milliseconds()))
	}
	if len(r.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(r.errs...))
	}
	return c, nil
}
