// Package config reads the gateway's settings from environment variables and
// validates them at start-up. Settings are grouped by concern; each group
// goes whole to the package it configures. Every variable is listed in
// docs/configuration.md, which a test keeps in step with this package.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/platform/envvar"
	"github.com/eventms/gateway/internal/state/entitycache"
	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Config is the whole configuration of the gateway.
type Config struct {
	// Env is APP_ENV (or NODE_ENV): "development" or "production"; it picks
	// the defaults marked dev / prod.
	Env string
	// Port the gateway listens on (PORT) [3000], on HTTP.ListenAddr.
	Port int
	// EventAPIBaseURL is the upstream (EVENT_API_BASE_URL); empty starts
	// the embedded simulator, which production refuses.
	EventAPIBaseURL string

	Upstream    Upstream
	Cache       Cache
	Breaker     breaker.Config
	Idempotency Idempotency
	Redis       Redis
	Realtime    Realtime
	HTTP        HTTP
	GraphQL     GraphQL
	Limits      Limits
	Paging      Paging
	Log         Log
	Auth        Auth

	TrustedDocuments TrustedDocuments

	// Warnings are problems worth logging that do not stop the start
	// (deprecated names, APP_ENV and NODE_ENV disagreeing).
	Warnings []string
}

// Upstream configures the Event API client and the loaders above it.
//
//	UPSTREAM_TIMEOUT              Client.Timeout     2s     per attempt
//	UPSTREAM_MAX_RETRIES          Client.Retry       3      after the first attempt of a GET
//	UPSTREAM_RETRY_BASE / _MAX    Client.Retry       50ms / 1s  full-jitter backoff
//	UPSTREAM_MAX_CONCURRENCY      Client             1024   ceiling (and start) of each route's adaptive limit of calls in flight
//	UPSTREAM_MIN_CONCURRENCY      Client             8      floor of that limit; equal to the ceiling, the limit is fixed
//	UPSTREAM_MAX_IDLE_CONNS       Client             128    idle upstream connections kept for reuse
//	UPSTREAM_WRITE_CHECK_RETRIES  WriteCheckRetries  1      retries of the reads a write depends on
//	LOADER_BATCH_WAIT             LoaderBatchWait    0s     dataloader batch window
//	DETAILED_ERRORS               DetailedErrors     dev on / prod off
type Upstream struct {
	// Client is the upstream client's configuration, less its base URL and
	// hooks, which the wiring adds.
	Client            eventapi.Config
	WriteCheckRetries int
	LoaderBatchWait   time.Duration
	// DetailedErrors puts the upstream's own error texts (hosts, URLs) in
	// client-facing messages.
	DetailedErrors bool
}

// Cache configures the entity cache between the loaders and the upstream.
// The defaults: a screen reloaded within seconds costs nothing upstream and
// other clients' writes show within 5 s; for a minute after that an answer
// is immediate while it is refreshed behind; during an upstream outage the
// last answer seen in the past 6 hours is served, marked stale, rather than
// an error.
//
//	CACHE                         Enabled               on    off: every read goes to the upstream
//	CACHE_FRESH_TTL               Entity.Fresh          5s
//	CACHE_STALE_WHILE_REVALIDATE  Entity.StaleWhile…    1m
//	CACHE_STALE_IF_ERROR          Entity.StaleIfError   6h
//	CACHE_NEGATIVE_TTL            Entity.NegativeTTL    2s    an unknown id is remembered this long
//	CACHE_MAX_ENTRIES             MaxEntries            50000
//	CACHE_FILL_LEASE              Entity.FillLease      3s    with Redis: how long a replica waits for another's fill of the same key
//
// Whole answers of reads (the response cache) are kept on top of the
// entities, as long as those stay fresh:
//
//	RESPONSE_CACHE                  Responses.Enabled        on        off: every read is executed (needs CACHE on)
//	RESPONSE_CACHE_MAX_BYTES        Responses.MaxBytes       32 MiB    all kept answers of a replica
//	RESPONSE_CACHE_MAX_ENTRY_BYTES  Responses.MaxEntryBytes  1 MiB     larger answers are served, not kept
//	RESPONSE_CACHE_REFRESH_AHEAD    Responses.RefreshAhead   0.2       the last part of an answer's fresh life in which a read refreshes it
//	ADMIN_TOKEN                     AdminToken               (none)    bearer token of POST /admin/cache/purge while AUTH_MODE=off
type Cache struct {
	Enabled    bool
	Entity     entitycache.Config
	MaxEntries int
	Responses  ResponseCache
	AdminToken string
}

// ResponseCache configures the cache of whole answers.
type ResponseCache struct {
	Enabled       bool
	MaxBytes      int64
	MaxEntryBytes int64
	RefreshAhead  float64
}

// Idempotency configures addEvent's idempotency keys.
//
//	IDEMPOTENCY_TTL       TTL      24h     how long a key's success is remembered
//	IDEMPOTENCY_MAX_KEYS  MaxKeys  100000  keys held in memory at most (without Redis)
//	IDEMPOTENCY_LEASE     Lease    30s     how long a key stays claimed if its writer dies mid-write
type Idempotency struct {
	TTL     time.Duration
	MaxKeys int
	Lease   time.Duration
}

// Redis configures the state a fleet of replicas shares: idempotency keys,
// the circuit breaker, the entity cache's second level and its
// invalidations, APQ documents. Without a URL everything lives in the
// process, in memory. Every command is bounded by Timeout (and the
// caller's deadline), so a slow Redis never holds a request long.
//
//	REDIS_URL           URL          (empty)   redis://[user:password@]host:port[/db], or rediss:// for TLS
//	REDIS_KEY_PREFIX    KeyPrefix    eventgw:  prefix of every key and channel
//	REDIS_POOL_SIZE     PoolSize     32        connections per replica
//	REDIS_DIAL_TIMEOUT  DialTimeout  1s
//	REDIS_TIMEOUT       Timeout      250ms     read and write timeout of one command
//	REDIS_MAX_RETRIES   MaxRetries   1         retries of a failed command
type Redis struct {
	URL         string
	Options     *redis.Options // parsed from URL, with the settings below
	KeyPrefix   string
	PoolSize    int
	DialTimeout time.Duration
	Timeout     time.Duration
	MaxRetries  int
}

// HTTP configures the server, the layers every request passes and the probes.
//
//	LISTEN_ADDR               ListenAddr          (empty)  host the gateway listens on, without a port (PORT is the port): an IP address or a name; empty: every interface
//	HTTP_READ_HEADER_TIMEOUT  ReadHeaderTimeout   5s
//	HTTP_READ_TIMEOUT         ReadTimeout         15s
//	HTTP_WRITE_TIMEOUT        WriteTimeout        30s
//	HTTP_IDLE_TIMEOUT         IdleTimeout         120s
//	REQUEST_TIMEOUT           RequestTimeout      20s   deadline of every request (≤ write timeout)
//	SHUTDOWN_TIMEOUT          ShutdownTimeout     25s
//	SHUTDOWN_DRAIN_DELAY      ShutdownDrainDelay  dev 0s / prod 5s
//	MAX_BODY_BYTES            MaxBodyBytes        1048576
//	MAX_URL_QUERY_BYTES       MaxURLQueryBytes    8192
//	COMPRESSION               Compression         on    gzip/zstd answers to clients that ask
//	COMPRESS_MIN_BYTES        CompressMinBytes    1024  smaller answers are sent as they are
//	CORS_ALLOWED_ORIGINS      CORSAllowedOrigins  dev * / prod none
//	CSRF_PREVENTION           CSRFPrevention      on
//	READY_CHECK_INTERVAL      ReadyCheckInterval  2s
type HTTP struct {
	// ListenAddr is a host without brackets or port ("127.0.0.1", "::1",
	// "localhost"); empty listens on every interface. Config.ListenAddress
	// joins it with the port.
	ListenAddr         string
	ReadHeaderTimeout  time.Duration
	ReadTimeout        time.Duration
	WriteTimeout       time.Duration
	IdleTimeout        time.Duration
	RequestTimeout     time.Duration
	ShutdownTimeout    time.Duration
	ShutdownDrainDelay time.Duration
	MaxBodyBytes       int64
	MaxURLQueryBytes   int
	Compression        bool
	CompressMinBytes   int
	CORSAllowedOrigins []string
	CSRFPrevention     bool
	ReadyCheckInterval time.Duration
}

// GraphQL configures the GraphQL endpoint's limits and exposure. A zero
// limit is off.
//
//	MAX_QUERY_DEPTH           MaxDepth          10
//	MAX_QUERY_COMPLEXITY      MaxComplexity     5000
//	MAX_QUERY_ALIASES         MaxAliases        30
//	MAX_QUERY_TOKENS          MaxTokens         5000
//	MAX_QUERY_FIELDS          MaxFields         2000  selections after expanding fragments
//	MAX_BATCH_SIZE            MaxBatchSize      10    operations in one batch (a JSON array); 0 refuses batches
//	GRAPHQL_INTROSPECTION     Introspection     dev on / prod off
//	GRAPHQL_IDE               IDE               dev on / prod off
//	GRAPHQL_FIELD_SUGGESTIONS FieldSuggestions  dev on / prod off
//
// Caches (the parsed documents, the persisted queries): see DocumentCaches.
type GraphQL struct {
	MaxDepth         int
	MaxComplexity    int
	MaxAliases       int
	MaxTokens        int
	MaxFields        int
	MaxBatchSize     int
	Introspection    bool
	IDE              bool
	FieldSuggestions bool
	Caches           DocumentCaches
}

// Realtime configures subscriptions (eventAdded) and their transports.
//
//	SUBSCRIPTION_POLL_INTERVAL           PollInterval         5s     how often the upstream's events are listed while anyone is subscribed
//	SUBSCRIPTION_BUFFER                  Buffer               64     events queued per subscriber before it is dropped as too slow
//	WS_MAX_CONNECTIONS                   MaxConnections       10000  WebSocket connections per process (more: closed with 1013)
//	WS_MAX_SUBSCRIPTIONS_PER_CONNECTION  MaxSubscriptions     100    operations (of any type) at once on one connection (more: TOO_MANY_SUBSCRIPTIONS)
//	SSE_MAX_STREAMS                      MaxSSEStreams        10000  SSE subscription streams per process (more: 429 TOO_MANY_STREAMS)
//	SSE_MAX_STREAMS_PER_CLIENT           MaxSSEStreamsPer…    100    SSE subscription streams per client address (more: 429 TOO_MANY_STREAMS)
//	WS_MAX_MESSAGE_BYTES                 MaxMessageBytes      65536  largest message a client may send (more: closed with 1009)
//	WS_KEEPALIVE_INTERVAL                KeepAlive            15s    server pings / keep-alive messages
//	WS_INIT_TIMEOUT                      InitTimeout          10s    connection_init must arrive within this (else closed with 4408)
type Realtime struct {
	PollInterval     time.Duration
	Buffer           int
	MaxConnections   int
	MaxSubscriptions int
	MaxMessageBytes  int64
	KeepAlive        time.Duration
	InitTimeout      time.Duration

	MaxSSEStreams          int
	MaxSSEStreamsPerClient int
}

// Log configures logging.
//
//	LOG_LEVEL   Level   info
//	LOG_FORMAT  Format  dev text / prod json
type Log struct {
	Level  string
	Format string
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

// ListenAddress is the address the gateway listens on, for net.Listen:
// LISTEN_ADDR's host and PORT's port (":3000", "127.0.0.1:3000",
// "[::1]:3000").
func (c Config) ListenAddress() string {
	return net.JoinHostPort(c.HTTP.ListenAddr, strconv.Itoa(c.Port))
}

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

// Load reads the configuration through lookup and reports every invalid
// variable, naming it and the accepted form.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := envvar.New(lookup)
	env, warning := environment(r)
	if warning != "" {
		r.Warn(warning)
	}
	prod := env == "production"
	maxConc := r.Integer("UPSTREAM_MAX_CONCURRENCY", 1024, 1, 100000)
	c := Config{
		Env:             env,
		Port:            r.Integer("PORT", 3000, 0, 65535),
		EventAPIBaseURL: r.Str("EVENT_API_BASE_URL", ""),
		Upstream: Upstream{
			Client: eventapi.Config{
				Timeout: r.Duration("UPSTREAM_TIMEOUT", 2*time.Second, time.Millisecond, 5*time.Minute),
				Retry: eventapi.Retry{
					MaxRetries: r.Integer("UPSTREAM_MAX_RETRIES", 3, 0, 10),
					Base:       r.Duration("UPSTREAM_RETRY_BASE", 50*time.Millisecond, 0, time.Minute),
					Max:        r.Duration("UPSTREAM_RETRY_MAX", time.Second, 0, 5*time.Minute),
				},
				MaxConcurrency: maxConc,
				// A ceiling below the floor's default lowers the floor with it.
				MinConcurrency: r.Integer("UPSTREAM_MIN_CONCURRENCY", min(eventapi.DefaultMinConcurrency, maxConc), 1, 100000),
				MaxIdleConns:   r.Integer("UPSTREAM_MAX_IDLE_CONNS", eventapi.DefaultMaxIdleConns, 1, 100000),
			},
			WriteCheckRetries: r.Integer("UPSTREAM_WRITE_CHECK_RETRIES", 1, 0, 10),
			LoaderBatchWait:   r.Duration("LOADER_BATCH_WAIT", 0, 0, time.Second),
			DetailedErrors:    r.Boolean("DETAILED_ERRORS", !prod),
		},
		Cache: Cache{
			Enabled: r.Boolean("CACHE", true),
			Entity: entitycache.Config{
				Fresh:                r.Duration("CACHE_FRESH_TTL", 5*time.Second, time.Millisecond, 24*time.Hour),
				StaleWhileRevalidate: r.Duration("CACHE_STALE_WHILE_REVALIDATE", time.Minute, time.Millisecond, 7*24*time.Hour),
				StaleIfError:         r.Duration("CACHE_STALE_IF_ERROR", 6*time.Hour, time.Millisecond, 30*24*time.Hour),
				NegativeTTL:          r.Duration("CACHE_NEGATIVE_TTL", 2*time.Second, time.Millisecond, time.Hour),
				FillLease:            r.Duration("CACHE_FILL_LEASE", 3*time.Second, time.Millisecond, time.Minute),
			},
			MaxEntries: r.Integer("CACHE_MAX_ENTRIES", 50000, 1, 10000000),
			Responses: ResponseCache{
				Enabled:       r.Boolean("RESPONSE_CACHE", true),
				MaxBytes:      int64(r.Integer("RESPONSE_CACHE_MAX_BYTES", 32<<20, 1<<16, 1<<34)),
				MaxEntryBytes: int64(r.Integer("RESPONSE_CACHE_MAX_ENTRY_BYTES", 1<<20, 1<<10, 1<<30)),
				RefreshAhead:  r.Float("RESPONSE_CACHE_REFRESH_AHEAD", 0.2, 0.01, 0.99),
			},
			AdminToken: r.Str("ADMIN_TOKEN", ""),
		},
		Breaker: breaker.Config{
			FailureThreshold: r.Integer("CIRCUIT_BREAKER_FAILURE_THRESHOLD", 3, 1, 1000),
			FailureWindow:    r.DurationOrMillis("CIRCUIT_BREAKER_FAILURE_WINDOW", 30*time.Second, time.Millisecond, 24*time.Hour),
			ResetTimeout:     r.DurationOrMillis("CIRCUIT_BREAKER_RESET_TIMEOUT", 10*time.Second, time.Millisecond, 24*time.Hour),
			MaxResetTimeout:  r.DurationOrMillis("CIRCUIT_BREAKER_MAX_RESET_TIMEOUT", 60*time.Second, time.Millisecond, 24*time.Hour),
			Jitter:           r.Float("CIRCUIT_BREAKER_JITTER", 0.1, 0, 1),
		},
		Idempotency: Idempotency{
			TTL:     r.Duration("IDEMPOTENCY_TTL", 24*time.Hour, time.Second, 30*24*time.Hour),
			MaxKeys: r.Integer("IDEMPOTENCY_MAX_KEYS", 100000, 1, 10000000),
			Lease:   r.Duration("IDEMPOTENCY_LEASE", 30*time.Second, 100*time.Millisecond, time.Hour),
		},
		Redis: Redis{
			URL:         r.Str("REDIS_URL", ""),
			KeyPrefix:   r.Str("REDIS_KEY_PREFIX", "eventgw:"),
			PoolSize:    r.Integer("REDIS_POOL_SIZE", 32, 1, 10000),
			DialTimeout: r.Duration("REDIS_DIAL_TIMEOUT", time.Second, time.Millisecond, time.Minute),
			Timeout:     r.Duration("REDIS_TIMEOUT", 250*time.Millisecond, time.Millisecond, time.Minute),
			MaxRetries:  r.Integer("REDIS_MAX_RETRIES", 1, 0, 10),
		},
		Realtime: Realtime{
			PollInterval:     r.Duration("SUBSCRIPTION_POLL_INTERVAL", 5*time.Second, 10*time.Millisecond, time.Hour),
			Buffer:           r.Integer("SUBSCRIPTION_BUFFER", 64, 1, 100000),
			MaxConnections:   r.Integer("WS_MAX_CONNECTIONS", 10000, 1, 1000000),
			MaxSubscriptions: r.Integer("WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", 100, 1, 100000),
			MaxMessageBytes:  int64(r.Integer("WS_MAX_MESSAGE_BYTES", 65536, 1024, 1<<26)),
			KeepAlive:        r.Duration("WS_KEEPALIVE_INTERVAL", 15*time.Second, 100*time.Millisecond, time.Hour),

			InitTimeout:            r.Duration("WS_INIT_TIMEOUT", 10*time.Second, 10*time.Millisecond, time.Hour),
			MaxSSEStreams:          r.Integer("SSE_MAX_STREAMS", 10000, 1, 1000000),
			MaxSSEStreamsPerClient: r.Integer("SSE_MAX_STREAMS_PER_CLIENT", 100, 1, 1000000),
		},
		HTTP: HTTP{
			ListenAddr:         r.Host("LISTEN_ADDR", ""),
			ReadHeaderTimeout:  r.Duration("HTTP_READ_HEADER_TIMEOUT", 5*time.Second, time.Millisecond, time.Hour),
			ReadTimeout:        r.Duration("HTTP_READ_TIMEOUT", 15*time.Second, time.Millisecond, time.Hour),
			WriteTimeout:       r.Duration("HTTP_WRITE_TIMEOUT", 30*time.Second, time.Millisecond, time.Hour),
			IdleTimeout:        r.Duration("HTTP_IDLE_TIMEOUT", 120*time.Second, time.Millisecond, time.Hour),
			RequestTimeout:     r.Duration("REQUEST_TIMEOUT", 20*time.Second, time.Millisecond, time.Hour),
			ShutdownTimeout:    r.Duration("SHUTDOWN_TIMEOUT", 25*time.Second, time.Millisecond, time.Hour),
			ShutdownDrainDelay: r.Duration("SHUTDOWN_DRAIN_DELAY", pick(prod, 5*time.Second, 0), 0, time.Hour),
			MaxBodyBytes:       int64(r.Integer("MAX_BODY_BYTES", 1<<20, 1, 1<<30)),
			MaxURLQueryBytes:   r.Integer("MAX_URL_QUERY_BYTES", 8192, 1, 1<<20),
			Compression:        r.Boolean("COMPRESSION", true),
			CompressMinBytes:   r.Integer("COMPRESS_MIN_BYTES", 1024, 0, 1<<30),
			CORSAllowedOrigins: r.List("CORS_ALLOWED_ORIGINS", pick(prod, "", "*")),
			CSRFPrevention:     r.Boolean("CSRF_PREVENTION", true),
			ReadyCheckInterval: r.Duration("READY_CHECK_INTERVAL", 2*time.Second, 0, time.Hour),
		},
		GraphQL: GraphQL{
			MaxDepth:         r.Integer("MAX_QUERY_DEPTH", 10, 0, 1000),
			MaxComplexity:    r.Integer("MAX_QUERY_COMPLEXITY", 5000, 0, 1<<30),
			MaxAliases:       r.Integer("MAX_QUERY_ALIASES", 30, 0, 100000),
			MaxTokens:        r.Integer("MAX_QUERY_TOKENS", 5000, 0, 1<<30),
			MaxFields:        r.Integer("MAX_QUERY_FIELDS", 2000, 0, 1<<20),
			MaxBatchSize:     r.Integer("MAX_BATCH_SIZE", 10, 0, 1000),
			Introspection:    r.Boolean("GRAPHQL_INTROSPECTION", !prod),
			IDE:              r.Boolean("GRAPHQL_IDE", !prod),
			FieldSuggestions: r.Boolean("GRAPHQL_FIELD_SUGGESTIONS", !prod),
			Caches:           loadDocumentCaches(r),
		},
		Limits: loadLimits(r),
		Paging: loadPaging(r),
		Log: Log{
			Level:  r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
			Format: r.OneOf("LOG_FORMAT", pick(prod, "json", "text"), "text", "json"),
		},
		Auth: loadAuth(r, prod),
	}
	c.TrustedDocuments = loadTrusted(r)
	c.check(r)
	if errs := r.Errors(); len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	c.Warnings = r.Warnings()
	return c, nil
}

// check reports the problems that involve more than one variable.
func (c *Config) check(r *envvar.Reader) {
	if c.Env == "production" && c.EventAPIBaseURL == "" {
		// A production gateway that forgot its upstream must not quietly
		// serve the simulator's made-up data.
		r.Fail("EVENT_API_BASE_URL", "", "the Event API's URL when APP_ENV=production (the embedded simulator is for development)")
	}
	if c.EventAPIBaseURL != "" {
		if u, err := url.Parse(c.EventAPIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.Fail("EVENT_API_BASE_URL", c.EventAPIBaseURL, "an http:// or https:// URL with a host, e.g. http://localhost:4000")
		}
	}
	if retry := c.Upstream.Client.Retry; retry.Max < retry.Base {
		r.Fail("UPSTREAM_RETRY_MAX", retry.Max.String(), fmt.Sprintf("at least UPSTREAM_RETRY_BASE (%s)", retry.Base))
	}
	if cl := c.Upstream.Client; cl.MinConcurrency > cl.MaxConcurrency {
		r.Fail("UPSTREAM_MIN_CONCURRENCY", fmt.Sprint(cl.MinConcurrency), fmt.Sprintf("at most UPSTREAM_MAX_CONCURRENCY (%d)", cl.MaxConcurrency))
	}
	if c.Redis.URL != "" {
		opt, err := redis.ParseURL(c.Redis.URL)
		if err != nil {
			r.Fail("REDIS_URL", redactURL(c.Redis.URL), "redis://[user:password@]host:port[/db] or rediss://… ("+err.Error()+")")
		} else {
			opt.PoolSize, opt.DialTimeout, opt.MaxRetries = c.Redis.PoolSize, c.Redis.DialTimeout, c.Redis.MaxRetries
			opt.ReadTimeout, opt.WriteTimeout = c.Redis.Timeout, c.Redis.Timeout
			opt.PoolTimeout = c.Redis.Timeout + c.Redis.DialTimeout
			c.Redis.Options = opt
		}
	}
	if rc := c.Cache.Responses; rc.MaxEntryBytes > rc.MaxBytes {
		r.Fail("RESPONSE_CACHE_MAX_ENTRY_BYTES", fmt.Sprint(rc.MaxEntryBytes), fmt.Sprintf("at most RESPONSE_CACHE_MAX_BYTES (%d)", rc.MaxBytes))
	}
	if t := c.Cache.AdminToken; t != "" && len(t) < 16 {
		r.Fail("ADMIN_TOKEN", "(hidden)", "at least 16 characters (it guards the purge of every cached answer)")
	}
	if e := c.Cache.Entity; e.StaleIfError < e.Fresh {
		r.Fail("CACHE_STALE_IF_ERROR", e.StaleIfError.String(), fmt.Sprintf("at least CACHE_FRESH_TTL (%s)", e.Fresh))
	}
	if c.Breaker.MaxResetTimeout < c.Breaker.ResetTimeout {
		r.Fail("CIRCUIT_BREAKER_MAX_RESET_TIMEOUT", c.Breaker.MaxResetTimeout.String(),
			fmt.Sprintf("at least CIRCUIT_BREAKER_RESET_TIMEOUT (%s)", c.Breaker.ResetTimeout))
	}
	if c.Idempotency.Lease <= c.HTTP.RequestTimeout {
		r.Fail("IDEMPOTENCY_LEASE", c.Idempotency.Lease.String(), fmt.Sprintf(
			"more than REQUEST_TIMEOUT (%s): a writer still running must not lose its claim to a duplicate", c.HTTP.RequestTimeout))
	}
	if c.HTTP.RequestTimeout > c.HTTP.WriteTimeout {
		r.Fail("REQUEST_TIMEOUT", c.HTTP.RequestTimeout.String(), fmt.Sprintf("at most HTTP_WRITE_TIMEOUT (%s), or answers are cut off", c.HTTP.WriteTimeout))
	}
}

// redactURL hides a URL's password before an error message repeats it.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparseable URL)"
}

// environment reads APP_ENV, or NODE_ENV, which callers migrating from the
// original Node service set: it is honoured as an alias so that such a
// caller never gets development defaults (the simulator, GraphiQL, open
// CORS) in production. APP_ENV wins when both are set; a disagreement is
// returned as a warning to log.
func environment(r *envvar.Reader) (env, warning string) {
	nodeEnv, hasNode := r.Raw("NODE_ENV")
	if _, hasApp := r.Raw("APP_ENV"); hasApp || !hasNode {
		env = r.OneOf("APP_ENV", "development", "development", "production")
		if hasNode && !strings.EqualFold(nodeEnv, env) {
			warning = fmt.Sprintf("APP_ENV=%s and NODE_ENV=%s disagree: using APP_ENV", env, nodeEnv)
		}
		return env, warning
	}
	// NODE_ENV's other common value, test, is development here.
	if strings.EqualFold(nodeEnv, "test") {
		return "development", ""
	}
	return r.OneOf("NODE_ENV", "development", "development", "production"), ""
}
