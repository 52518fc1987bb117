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
	if c.Port != 3000 || c.UpstreamMaxConcurrency != 128 || c.UpstreamTimeout != 2*time.Second ||
		c.Sim.EventDelay != 500*time.Millisecond || c.Sim.NetworkErrorRate != 0.05 || !c.Sim.FailureCycle {
		t.Errorf("defaults: %+v", c)
	}
}

func TestValidValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORT": "8080", "SIM_FAILURE_CYCLE": "off", "SIM_EVENT_DELAY": "0s", "SIM_USERS": "3",
		"EVENT_API_BASE_URL": "http://localhost:4000", "LOG_FORMAT": "JSON",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.Sim.FailureCycle || c.Sim.EventDelay != 0 || c.Sim.Users != 3 || c.LogFormat != "json" {
		t.Errorf("parsed: %+v", c)
	}
}

func TestInvalidValuesNameTheVariableAndTheForm(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"PORT", "http", "PORT=\"http\": want an integer from 0 to 65535"},
		{"PORT", "70000", "PORT=\"70000\""},
		{"UPSTREAM_TIMEOUT", "5", "UPSTREAM_TIMEOUT=\"5\": want a Go duration"},
		{"UPSTREAM_MAX_CONCURRENCY", "0", "UPSTREAM_MAX_CONCURRENCY=\"0\": want an integer from 1"},
		{"SIM_NETWORK_ERROR_RATE", "5%", "SIM_NETWORK_ERROR_RATE=\"5%\": want a number from 0 to 1"},
		{"SIM_FAILURE_CYCLE", "maybe", "SIM_FAILURE_CYCLE=\"maybe\": want on or off"},
		{"EVENT_API_BASE_URL", "localhost:4000", "EVENT_API_BASE_URL=\"localhost:4000\": want an http:// or https:// URL"},
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

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{"PORT": "x", "SIM_USERS": "-1"}))
	if err == nil || !strings.Contains(err.Error(), "PORT") || !strings.Contains(err.Error(), "SIM_USERS") {
		t.Fatalf("err %v, want both variables named", err)
	}
}

func TestAppEnvPicksDefaults(t *testing.T) {
	prod, err := Load(env(map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal"}))
	if err != nil {
		t.Fatal(err)
	}
	if prod.Introspection || prod.IDE || prod.FieldSuggestions || len(prod.CORSAllowedOrigins) != 0 || prod.LogFormat != "json" || prod.ShutdownDrainDelay == 0 {
		t.Errorf("production defaults: %+v", prod)
	}
	dev, _ := Load(env(nil))
	if !dev.Introspection || !dev.IDE || !dev.FieldSuggestions || len(dev.CORSAllowedOrigins) != 1 || dev.LogFormat != "text" {
		t.Errorf("development defaults: %+v", dev)
	}
	// Explicit settings win over the environment's defaults.
	c, _ := Load(env(map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal", "GRAPHQL_IDE": "on", "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"}))
	if !c.IDE || len(c.CORSAllowedOrigins) != 2 || c.CORSAllowedOrigins[1] != "https://b.example" {
		t.Errorf("overrides: IDE %v origins %v", c.IDE, c.CORSAllowedOrigins)
	}
	if _, err := Load(env(map[string]string{"APP_ENV": "staging"})); err == nil || !strings.Contains(err.Error(), "APP_ENV=\"staging\": want one of development, production") {
		t.Errorf("bad APP_ENV: %v", err)
	}
}

func TestDotEnvFile(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(".env", []byte("PORT=4321\nSIM_USERS=7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SIM_USERS", "9") // the real environment wins over .env
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4321 || c.Sim.Users != 9 {
		t.Errorf("port %d users %d, want 4321 from .env and 9 from the environment", c.Port, c.Sim.Users)
	}
	if err := os.WriteFile(".env", []byte("this is = not\n'valid"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), ".env") {
		t.Errorf("malformed .env: %v", err)
	}
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	example, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
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
			t.Errorf("README does not document %s", n)
		}
	}
}
