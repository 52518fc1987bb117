// Package config reads the gateway's settings from environment variables and
// validates them at start-up. Every variable is listed in the README.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is the whole configuration of the gateway.
type Config struct {
	// Env is APP_ENV: "development" or "production"; it picks defaults.
	Env string
	// Port the gateway listens on (PORT).
	Port int
	// EventAPIBaseURL is the upstream; empty starts the embedded simulator.
	EventAPIBaseURL string

	UpstreamTimeout        time.Duration
	UpstreamMaxRetries     int
	UpstreamRetryBase      time.Duration
	UpstreamRetryMax       time.Duration
	UpstreamMaxConcurrency int
	// UpstreamWriteCheckRetries bounds the retries of reads a write depends on.
	UpstreamWriteCheckRetries int
	LoaderBatchWait           time.Duration

	BreakerFailureThreshold int
	BreakerFailureWindow    time.Duration
	BreakerResetTimeout     time.Duration
	BreakerMaxResetTimeout  time.Duration
	BreakerJitter           float64

	IdempotencyTTL     time.Duration
	IdempotencyMaxKeys int

	LogLevel  string
	LogFormat string

	// HTTP server and request limits.
	ReadHeaderTimeout  time.Duration
	ReadTimeout        time.Duration
	WriteTimeout       time.Duration
	IdleTimeout        time.Duration
	RequestTimeout     time.Duration
	ShutdownTimeout    time.Duration
	ShutdownDrainDelay time.Duration
	MaxBodyBytes       int64
	MaxURLQueryBytes   int

	// GraphQL hardening.
	MaxQueryDepth      int
	MaxQueryComplexity int
	MaxQueryAliases    int
	MaxQueryTokens     int
	Introspection      bool
	IDE                bool
	FieldSuggestions   bool
	CSRFPrevention     bool
	APQCacheSize       int
	CORSAllowedOrigins []string
	// DetailedErrors puts upstream error texts (hosts, URLs) in client messages.
	DetailedErrors bool

	ReadyCheckInterval time.Duration

	// Warnings are problems worth logging that do not stop the start.
	Warnings []string
}

// FromEnv reads the configuration from the process environment, after
// loading a .env file from the working directory if there is one (variables
// already set in the environment win).
func FromEnv() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("read .env: %w", err)
	}
	return Load(os.LookupEnv)
}

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

// environment reads APP_ENV, or NODE_ENV, which callers migrating from the
// original Node service set: it is honoured as an alias so that such a
// caller never gets development defaults (the simulator, GraphiQL, open
// CORS) in production. APP_ENV wins when both are set; a disagreement is
// returned as a warning to log.
func environment(r *reader) (env, warning string) {
	nodeEnv, hasNode := r.raw("NODE_ENV")
	if _, hasApp := r.raw("APP_ENV"); hasApp || !hasNode {
		env = r.oneOf("APP_ENV", "development", "development", "production")
		if hasNode && !strings.EqualFold(nodeEnv, env) {
			warning = fmt.Sprintf("APP_ENV=%s and NODE_ENV=%s disagree: using APP_ENV", env, nodeEnv)
		}
		return env, warning
	}
	// NODE_ENV's other common value, test, is development here.
	if strings.EqualFold(nodeEnv, "test") {
		return "development", ""
	}
	return r.oneOf("NODE_ENV", "development", "development", "production"), ""
}

// Load reads the configuration through lookup and reports every invalid
// variable, naming it and the accepted form.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := &reader{lookup: lookup}
	env, warning := environment(r)
	prod := env == "production"
	c := Config{
		Env:                       env,
		Port:                      r.integer("PORT", 3000, 0, 65535),
		EventAPIBaseURL:           r.str("EVENT_API_BASE_URL", ""),
		UpstreamTimeout:           r.duration("UPSTREAM_TIMEOUT", 2*time.Second, time.Millisecond, 5*time.Minute),
		UpstreamMaxRetries:        r.integer("UPSTREAM_MAX_RETRIES", 3, 0, 10),
		UpstreamRetryBase:         r.duration("UPSTREAM_RETRY_BASE", 50*time.Millisecond, 0, time.Minute),
		UpstreamRetryMax:          r.duration("UPSTREAM_RETRY_MAX", time.Second, 0, 5*time.Minute),
		UpstreamMaxConcurrency:    r.integer("UPSTREAM_MAX_CONCURRENCY", 128, 1, 100000),
		UpstreamWriteCheckRetries: r.integer("UPSTREAM_WRITE_CHECK_RETRIES", 1, 0, 10),
		LoaderBatchWait:           r.duration("LOADER_BATCH_WAIT", 0, 0, time.Second),
		BreakerFailureThreshold:   r.integer("CIRCUIT_BREAKER_FAILURE_THRESHOLD", 3, 1, 1000),
		BreakerFailureWindow:      r.millis("CIRCUIT_BREAKER_FAILURE_WINDOW_MS", 30*time.Second, time.Millisecond, 24*time.Hour),
		BreakerResetTimeout:       r.millis("CIRCUIT_BREAKER_RESET_TIMEOUT_MS", 10*time.Second, time.Millisecond, 24*time.Hour),
		BreakerMaxResetTimeout:    r.millis("CIRCUIT_BREAKER_MAX_RESET_TIMEOUT_MS", 60*time.Second, time.Millisecond, 24*time.Hour),
		BreakerJitter:             r.float("CIRCUIT_BREAKER_JITTER", 0.1, 0, 1),
		IdempotencyTTL:            r.duration("IDEMPOTENCY_TTL", 24*time.Hour, time.Second, 30*24*time.Hour),
		IdempotencyMaxKeys:        r.integer("IDEMPOTENCY_MAX_KEYS", 100000, 1, 10000000),
		LogLevel:                  r.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:                 r.oneOf("LOG_FORMAT", pick(prod, "json", "text"), "text", "json"),

		ReadHeaderTimeout:  r.duration("HTTP_READ_HEADER_TIMEOUT", 5*time.Second, time.Millisecond, time.Hour),
		ReadTimeout:        r.duration("HTTP_READ_TIMEOUT", 15*time.Second, time.Millisecond, time.Hour),
		WriteTimeout:       r.duration("HTTP_WRITE_TIMEOUT", 30*time.Second, time.Millisecond, time.Hour),
		IdleTimeout:        r.duration("HTTP_IDLE_TIMEOUT", 120*time.Second, time.Millisecond, time.Hour),
		RequestTimeout:     r.duration("REQUEST_TIMEOUT", 20*time.Second, time.Millisecond, time.Hour),
		ShutdownTimeout:    r.duration("SHUTDOWN_TIMEOUT", 25*time.Second, time.Millisecond, time.Hour),
		ShutdownDrainDelay: r.duration("SHUTDOWN_DRAIN_DELAY", pick(prod, 5*time.Second, 0), 0, time.Hour),
		MaxBodyBytes:       int64(r.integer("MAX_BODY_BYTES", 1<<20, 1, 1<<30)),
		MaxURLQueryBytes:   r.integer("MAX_URL_QUERY_BYTES", 8192, 1, 1<<20),

		MaxQueryDepth:      r.integer("MAX_QUERY_DEPTH", 10, 0, 1000),
		MaxQueryComplexity: r.integer("MAX_QUERY_COMPLEXITY", 5000, 0, 1<<30),
		MaxQueryAliases:    r.integer("MAX_QUERY_ALIASES", 30, 0, 100000),
		MaxQueryTokens:     r.integer("MAX_QUERY_TOKENS", 5000, 0, 1<<30),
		Introspection:      r.boolean("GRAPHQL_INTROSPECTION", !prod),
		IDE:                r.boolean("GRAPHQL_IDE", !prod),
		FieldSuggestions:   r.boolean("GRAPHQL_FIELD_SUGGESTIONS", !prod),
		CSRFPrevention:     r.boolean("CSRF_PREVENTION", true),
		APQCacheSize:       r.integer("APQ_CACHE_SIZE", 1000, 1, 10000000),
		CORSAllowedOrigins: r.list("CORS_ALLOWED_ORIGINS", pick(prod, "", "*")),
		ReadyCheckInterval: r.duration("READY_CHECK_INTERVAL", 2*time.Second, 0, time.Hour),
		DetailedErrors:     r.boolean("DETAILED_ERRORS", !prod),
	}
	if warning != "" {
		c.Warnings = append(c.Warnings, warning)
	}
	if prod && c.EventAPIBaseURL == "" {
		// A production gateway that forgot its upstream must not quietly
		// serve the simulator's made-up data.
		r.fail("EVENT_API_BASE_URL", "", "the Event API's URL when APP_ENV=production (the embedded simulator is for development)")
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
	if c.RequestTimeout > c.WriteTimeout {
		r.fail("REQUEST_TIMEOUT", c.RequestTimeout.String(), fmt.Sprintf("at most HTTP_WRITE_TIMEOUT (%s), or answers are cut off", c.WriteTimeout))
	}
	if len(r.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(r.errs...))
	}
	return c, nil
}
