package config

import (
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
