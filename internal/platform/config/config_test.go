package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.Upstream.Client.MaxConcurrency != 1024 || c.Upstream.Client.MinConcurrency != 8 || c.Upstream.Client.Timeout != 2*time.Second ||
		c.Upstream.WriteCheckRetries != 1 || !c.Upstream.DetailedErrors || len(c.Warnings) != 0 ||
		c.Breaker.FailureWindow != 30*time.Second || c.GraphQL.Caches.QueryEntries != 1000 || c.GraphQL.MaxFields != 2000 ||
		c.Paging.MaxPageSize != 100 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestValidValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORT": "8080", "UPSTREAM_WRITE_CHECK_RETRIES": "0", "DETAILED_ERRORS": "off",
		"EVENT_API_BASE_URL": "http://localhost:4000", "LOG_FORMAT": "JSON", "MAX_PAGE_SIZE": "500",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.Upstream.WriteCheckRetries != 0 || c.Upstream.DetailedErrors || c.Log.Format != "json" || c.Paging.MaxPageSize != 500 {
		t.Errorf("parsed: %+v", c)
	}
}

func TestInvalidValuesNameTheVariableAndTheForm(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"PORT", "http", "PORT=\"http\": want an integer from 0 to 65535"},
		{"PORT", "70000", "PORT=\"70000\""},
		{"UPSTREAM_TIMEOUT", "5", "UPSTREAM_TIMEOUT=\"5\": want a Go duration"},
		{"UPSTREAM_MAX_CONCURRENCY", "0", "UPSTREAM_MAX_CONCURRENCY=\"0\": want an integer from 1"},
		{"UPSTREAM_MAX_IDLE_CONNS", "none", "UPSTREAM_MAX_IDLE_CONNS=\"none\": want an integer from 1 to 100000"},
		{"CIRCUIT_BREAKER_JITTER", "5%", "CIRCUIT_BREAKER_JITTER=\"5%\": want a number from 0 to 1"},
		{"CSRF_PREVENTION", "maybe", "CSRF_PREVENTION=\"maybe\": want on or off"},
		{"COMPRESS_MIN_BYTES", "-1", "COMPRESS_MIN_BYTES=\"-1\": want an integer from 0"},
		{"NODE_ENV", "staging", "NODE_ENV=\"staging\": want one of development, production"},
		{"EVENT_API_BASE_URL", "localhost:4000", "EVENT_API_BASE_URL=\"localhost:4000\": want an http:// or https:// URL"},
		{"MAX_PAGE_SIZE", "0", "MAX_PAGE_SIZE=\"0\": want an integer from 1 to 10000"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL=\"loud\": want one of debug, info, warn, error"},
		{"APP_ENV", "production", "EVENT_API_BASE_URL=\"\": want the Event API's URL when APP_ENV=production"},
	}
	for _, tt := range tests {
		_, err := Load(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: err %v, want it to contain %q", tt.name, tt.value, err, tt.want)
		}
	}
}

// The adaptive limit's floor and ceiling: a floor above the ceiling is
// refused naming both; a ceiling below the floor's default lowers the floor
// with it; equal bounds are a fixed limit.
func TestConcurrencyBounds(t *testing.T) {
	_, err := Load(env(map[string]string{"UPSTREAM_MIN_CONCURRENCY": "300", "UPSTREAM_MAX_CONCURRENCY": "200"}))
	if err == nil || !strings.Contains(err.Error(), `UPSTREAM_MIN_CONCURRENCY="300": want at most UPSTREAM_MAX_CONCURRENCY (200)`) {
		t.Errorf("floor above the ceiling: err %v", err)
	}
	for _, tc := range []struct {
		env      map[string]string
		min, max int
	}{
		{nil, 8, 1024},
		{map[string]string{"UPSTREAM_MAX_CONCURRENCY": "4"}, 4, 4},
		{map[string]string{"UPSTREAM_MAX_CONCURRENCY": "256", "UPSTREAM_MIN_CONCURRENCY": "256"}, 256, 256},
	} {
		c, err := Load(env(tc.env))
		if err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if cl := c.Upstream.Client; cl.MinConcurrency != tc.min || cl.MaxConcurrency != tc.max {
			t.Errorf("%v: bounds %d..%d, want %d..%d", tc.env, cl.MinConcurrency, cl.MaxConcurrency, tc.min, tc.max)
		}
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{"PORT": "x", "IDEMPOTENCY_MAX_KEYS": "-1"}))
	if err == nil || !strings.Contains(err.Error(), "PORT") || !strings.Contains(err.Error(), "IDEMPOTENCY_MAX_KEYS") {
		t.Fatalf("err %v, want both variables named", err)
	}
}

func TestAppEnvPicksDefaults(t *testing.T) {
	prod, err := Load(env(map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal", "AUTH_MODE": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if prod.GraphQL.Introspection || prod.GraphQL.IDE || prod.GraphQL.FieldSuggestions || len(prod.HTTP.CORSAllowedOrigins) != 0 || prod.Log.Format != "json" || prod.HTTP.ShutdownDrainDelay == 0 {
		t.Errorf("production defaults: %+v", prod)
	}
	dev, _ := Load(env(nil))
	if !dev.GraphQL.Introspection || !dev.GraphQL.IDE || !dev.GraphQL.FieldSuggestions || len(dev.HTTP.CORSAllowedOrigins) != 1 || dev.Log.Format != "text" {
		t.Errorf("development defaults: %+v", dev)
	}
	// Explicit settings win over the environment's defaults.
	c, _ := Load(env(map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal", "AUTH_MODE": "off", "GRAPHQL_IDE": "on", "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"}))
	if !c.GraphQL.IDE || len(c.HTTP.CORSAllowedOrigins) != 2 || c.HTTP.CORSAllowedOrigins[1] != "https://b.example" {
		t.Errorf("overrides: IDE %v origins %v", c.GraphQL.IDE, c.HTTP.CORSAllowedOrigins)
	}
	if _, err := Load(env(map[string]string{"APP_ENV": "staging"})); err == nil || !strings.Contains(err.Error(), "APP_ENV=\"staging\": want one of development, production") {
		t.Errorf("bad APP_ENV: %v", err)
	}
}

// Callers migrating from the original Node service set NODE_ENV: it is an
// alias of APP_ENV, which wins when both are set (and the disagreement is
// reported as a warning).
func TestNodeEnvIsAnAliasOfAppEnv(t *testing.T) {
	const upstream = "http://events.internal"
	tests := []struct {
		name        string
		vars        map[string]string
		wantEnv     string
		wantWarning bool
	}{
		{"NODE_ENV=production alone", map[string]string{"NODE_ENV": "production"}, "production", false},
		{"NODE_ENV=test is development", map[string]string{"NODE_ENV": "test"}, "development", false},
		{"NODE_ENV=development alone", map[string]string{"NODE_ENV": "development"}, "development", false},
		{"both agree", map[string]string{"NODE_ENV": "production", "APP_ENV": "production"}, "production", false},
		{"APP_ENV wins", map[string]string{"NODE_ENV": "production", "APP_ENV": "development"}, "development", true},
		{"APP_ENV wins the other way", map[string]string{"NODE_ENV": "development", "APP_ENV": "production"}, "production", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["EVENT_API_BASE_URL"] = upstream
			tt.vars["AUTH_MODE"] = "off"
			c, err := Load(env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			if c.Env != tt.wantEnv || (len(c.Warnings) > 0) != tt.wantWarning {
				t.Errorf("env %q warnings %q; want %q, warning %v", c.Env, c.Warnings, tt.wantEnv, tt.wantWarning)
			}
			if prod := c.Env == "production"; prod && (c.GraphQL.IDE || c.GraphQL.Introspection || len(c.HTTP.CORSAllowedOrigins) != 0 || c.Upstream.DetailedErrors) {
				t.Errorf("production by %v still has development defaults: %+v", tt.vars, c)
			}
		})
	}
	// Production by NODE_ENV refuses to start on the simulator, as APP_ENV does.
	if _, err := Load(env(map[string]string{"NODE_ENV": "production"})); err == nil || !strings.Contains(err.Error(), "EVENT_API_BASE_URL") {
		t.Errorf("NODE_ENV=production without an upstream: %v", err)
	}
}

// The breaker's durations are Go durations like every other; the original
// service's _MS names keep working, with a warning.
func TestBreakerDurationsAndTheirDeprecatedAliases(t *testing.T) {
	tests := []struct {
		name        string
		vars        map[string]string
		want        time.Duration
		wantWarning string
		wantErr     string
	}{
		{"default", nil, 30 * time.Second, "", ""},
		{"Go duration", map[string]string{"CIRCUIT_BREAKER_FAILURE_WINDOW": "45s"}, 45 * time.Second, "", ""},
		{"deprecated milliseconds", map[string]string{"CIRCUIT_BREAKER_FAILURE_WINDOW_MS": "15000"}, 15 * time.Second, "deprecated", ""},
		{"both: the new name wins", map[string]string{"CIRCUIT_BREAKER_FAILURE_WINDOW": "1m", "CIRCUIT_BREAKER_FAILURE_WINDOW_MS": "5"}, time.Minute, "both set", ""},
		{"bad duration", map[string]string{"CIRCUIT_BREAKER_FAILURE_WINDOW": "30"}, 0, "", `CIRCUIT_BREAKER_FAILURE_WINDOW="30": want a Go duration`},
		{"bad milliseconds", map[string]string{"CIRCUIT_BREAKER_FAILURE_WINDOW_MS": "30s"}, 0, "", `CIRCUIT_BREAKER_FAILURE_WINDOW_MS="30s": want an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.vars))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warnings := strings.Join(c.Warnings, "; ")
			if c.Breaker.FailureWindow != tt.want || (tt.wantWarning == "") != (warnings == "") || !strings.Contains(warnings, tt.wantWarning) {
				t.Errorf("window %s warnings %q; want %s and a warning with %q", c.Breaker.FailureWindow, warnings, tt.want, tt.wantWarning)
			}
		})
	}
	_, err := Load(env(map[string]string{"CIRCUIT_BREAKER_RESET_TIMEOUT": "2m"}))
	if err == nil || !strings.Contains(err.Error(), "CIRCUIT_BREAKER_MAX_RESET_TIMEOUT") {
		t.Errorf("reset above its cap: %v", err)
	}
}

func TestDotEnvFile(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(".env", []byte("PORT=4321\nAPQ_CACHE_SIZE=7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("APQ_CACHE_SIZE", "9") // the real environment wins over .env
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4321 || c.GraphQL.Caches.APQEntries != 9 {
		t.Errorf("port %d APQ size %d, want 4321 from .env and 9 from the environment", c.Port, c.GraphQL.Caches.APQEntries)
	}
	if err := os.WriteFile(".env", []byte("this is = not\n'valid"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), ".env") {
		t.Errorf("malformed .env: %v", err)
	}
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	example, err := os.ReadFile("../../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	Load(func(k string) (string, bool) { names = append(names, k); return "", false })
	for _, n := range names {
		if !strings.Contains(string(example), n+"=") && !strings.Contains(string(example), "# "+n+"=") {
			t.Errorf(".env.example does not list %s", n)
		}
		if !strings.Contains(string(readme), "`"+n+"`") {
			t.Errorf("docs/configuration.md does not document %s", n)
		}
	}
}

// LISTEN_ADDR is the host the gateway listens on; PORT stays its port.
// Unset, it listens on every interface, as before the variable existed.
func TestListenAddress(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    string
		wantErr string
	}{
		{nil, ":3000", ""},
		{map[string]string{"LISTEN_ADDR": ""}, ":3000", ""},
		{map[string]string{"PORT": "8080"}, ":8080", ""},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1"}, "127.0.0.1:3000", ""},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1", "PORT": "0"}, "127.0.0.1:0", ""},
		{map[string]string{"LISTEN_ADDR": "0.0.0.0", "PORT": "8080"}, "0.0.0.0:8080", ""},
		{map[string]string{"LISTEN_ADDR": "::1"}, "[::1]:3000", ""},
		{map[string]string{"LISTEN_ADDR": "[::]"}, "[::]:3000", ""},
		{map[string]string{"LISTEN_ADDR": "localhost"}, "localhost:3000", ""},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:8080"}, "", `LISTEN_ADDR="127.0.0.1:8080": want a host without a port`},
		{map[string]string{"LISTEN_ADDR": ":8080"}, "", `LISTEN_ADDR=":8080": want a host without a port`},
		{map[string]string{"LISTEN_ADDR": "http://0.0.0.0"}, "", `LISTEN_ADDR="http://0.0.0.0": want a host without a port`},
		{map[string]string{"LISTEN_ADDR": "10.0.0.300"}, "", `LISTEN_ADDR="10.0.0.300"`},
	}
	for _, tt := range tests {
		c, err := Load(env(tt.env))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tt.env, err)
		case tt.wantErr == "" && c.ListenAddress() != tt.want:
			t.Errorf("%v: listens on %q; want %q", tt.env, c.ListenAddress(), tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: err %v; want it to contain %q", tt.env, err, tt.wantErr)
		}
	}
}
