package eventsim

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigFromEnvDefaultsAreDefaults(t *testing.T) {
	c, err := ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c != Defaults() {
		t.Errorf("ConfigFromEnv with nothing set: %+v, want Defaults() %+v", c, Defaults())
	}
	// Blank values are unset, as in the gateway's configuration.
	if c, err := ConfigFromEnv(env(map[string]string{"SIM_EVENT_DELAY": "  ", "SIM_USERS": ""})); err != nil || c != Defaults() {
		t.Errorf("blank values: %+v, %v; want Defaults()", c, err)
	}
	s, err := SettingsFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Config: Defaults(), ListenAddr: "127.0.0.1", Port: 4000, LogFormat: "text", LogLevel: "info"}
	if s != want {
		t.Errorf("SettingsFromEnv with nothing set: %+v, want %+v", s, want)
	}
	if s.Address() != "127.0.0.1:4000" {
		t.Errorf("run alone with nothing set, it listens on %q; want the loopback 127.0.0.1:4000", s.Address())
	}
}

func TestSettingsFromEnvValidValues(t *testing.T) {
	tests := []struct {
		name, value string
		check       func(Settings) bool
	}{
		{"SIM_EVENT_DELAY", "0s", func(s Settings) bool { return s.Config.EventDelay == 0 }},
		{"SIM_EVENT_DELAY", "0", func(s Settings) bool { return s.Config.EventDelay == 0 }},
		{"SIM_EVENT_DELAY", "250ms", func(s Settings) bool { return s.Config.EventDelay == 250*time.Millisecond }},
		{"SIM_EVENT_DELAY", "1m", func(s Settings) bool { return s.Config.EventDelay == time.Minute }},
		{"SIM_NETWORK_ERROR_RATE", "0", func(s Settings) bool { return s.Config.NetworkErrorRate == 0 }},
		{"SIM_NETWORK_ERROR_RATE", "1", func(s Settings) bool { return s.Config.NetworkErrorRate == 1 }},
		{"SIM_NETWORK_ERROR_RATE", " 0.25 ", func(s Settings) bool { return s.Config.NetworkErrorRate == 0.25 }},
		{"SIM_FAILURE_CYCLE", "off", func(s Settings) bool { return !s.Config.FailureCycle }},
		{"SIM_FAILURE_CYCLE", "FALSE", func(s Settings) bool { return !s.Config.FailureCycle }},
		{"SIM_FAILURE_CYCLE", "0", func(s Settings) bool { return !s.Config.FailureCycle }},
		{"SIM_FAILURE_CYCLE", "no", func(s Settings) bool { return !s.Config.FailureCycle }},
		{"SIM_FAILURE_CYCLE", "yes", func(s Settings) bool { return s.Config.FailureCycle }},
		{"SIM_USERS", "100000", func(s Settings) bool { return s.Config.Users == 100000 }},
		{"SIM_EVENTS_PER_USER", "100000", func(s Settings) bool { return s.Config.EventsPerUser == 100000 }},
		{"SIM_CAPACITY", "0", func(s Settings) bool { return s.Config.Capacity == 0 }},
		{"SIM_CAPACITY", " 8 ", func(s Settings) bool { return s.Config.Capacity == 8 }},
		{"SIM_CAPACITY", "1000000", func(s Settings) bool { return s.Config.Capacity == 1000000 }},
		{"SIM_OVERLOAD_FACTOR", "1", func(s Settings) bool { return s.Config.OverloadFactor == 1 }},
		{"SIM_OVERLOAD_FACTOR", "1.5", func(s Settings) bool { return s.Config.OverloadFactor == 1.5 }},
		{"SIM_OVERLOAD_FACTOR", "100", func(s Settings) bool { return s.Config.OverloadFactor == 100 }},
		{"SIM_PORT", "0", func(s Settings) bool { return s.Port == 0 }},
		{"SIM_PORT", "65535", func(s Settings) bool { return s.Port == 65535 }},
		{"SIM_LISTEN_ADDR", "0.0.0.0", func(s Settings) bool { return s.ListenAddr == "0.0.0.0" && s.Address() == "0.0.0.0:4000" }},
		{"SIM_LISTEN_ADDR", "[::]", func(s Settings) bool { return s.ListenAddr == "::" && s.Address() == "[::]:4000" }},
		{"SIM_LISTEN_ADDR", "localhost", func(s Settings) bool { return s.Address() == "localhost:4000" }},
		{"SIM_LOG_FORMAT", "JSON", func(s Settings) bool { return s.LogFormat == "json" }},
		{"SIM_LOG_LEVEL", "debug", func(s Settings) bool { return s.LogLevel == "debug" }},
	}
	for _, tt := range tests {
		s, err := SettingsFromEnv(env(map[string]string{tt.name: tt.value}))
		if err != nil || !tt.check(s) {
			t.Errorf("%s=%q: %+v, err %v", tt.name, tt.value, s, err)
		}
	}
	// Several at once, and SIM_USERS × SIM_EVENTS_PER_USER at the cap.
	c, err := ConfigFromEnv(env(map[string]string{"SIM_USERS": "1000", "SIM_EVENTS_PER_USER": "1000", "SIM_FAILURE_CYCLE": "on", "SIM_EVENT_DELAY": "10ms"}))
	if err != nil || c.Users != 1000 || c.EventsPerUser != 1000 || !c.FailureCycle || c.EventDelay != 10*time.Millisecond || c.FailureDelay != Defaults().FailureDelay {
		t.Errorf("several valid values: %+v, err %v", c, err)
	}
}

func TestSettingsFromEnvInvalidValuesNameTheVariableAndTheForm(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"SIM_EVENT_DELAY", "500", `SIM_EVENT_DELAY="500": want a Go duration (e.g. 250ms, 2s, 1m) from 0s to 1m0s`},
		{"SIM_EVENT_DELAY", "-1s", `SIM_EVENT_DELAY="-1s": want a Go duration`},
		{"SIM_EVENT_DELAY", "2m", `SIM_EVENT_DELAY="2m": want a Go duration`},
		{"SIM_NETWORK_ERROR_RATE", "5%", `SIM_NETWORK_ERROR_RATE="5%": want a number from 0 to 1`},
		{"SIM_NETWORK_ERROR_RATE", "1.5", `SIM_NETWORK_ERROR_RATE="1.5": want a number from 0 to 1`},
		{"SIM_NETWORK_ERROR_RATE", "-0.1", `SIM_NETWORK_ERROR_RATE="-0.1"`},
		{"SIM_NETWORK_ERROR_RATE", "NaN", `SIM_NETWORK_ERROR_RATE="NaN": want a number from 0 to 1`},
		{"SIM_FAILURE_CYCLE", "maybe", `SIM_FAILURE_CYCLE="maybe": want on or off (also true/false, 1/0, yes/no)`},
		{"SIM_USERS", "-1", `SIM_USERS="-1": want an integer from 0 to 100000`},
		{"SIM_USERS", "100001", `SIM_USERS="100001": want an integer from 0 to 100000`},
		{"SIM_USERS", "3.5", `SIM_USERS="3.5": want an integer`},
		{"SIM_EVENTS_PER_USER", "lots", `SIM_EVENTS_PER_USER="lots": want an integer from 0 to 100000`},
		{"SIM_CAPACITY", "-1", `SIM_CAPACITY="-1": want an integer from 0 to 1000000`},
		{"SIM_CAPACITY", "1000001", `SIM_CAPACITY="1000001": want an integer from 0 to 1000000`},
		{"SIM_CAPACITY", "many", `SIM_CAPACITY="many": want an integer from 0 to 1000000`},
		{"SIM_CAPACITY", "2.5", `SIM_CAPACITY="2.5": want an integer from 0 to 1000000`},
		{"SIM_OVERLOAD_FACTOR", "0", `SIM_OVERLOAD_FACTOR="0": want a number from 1 to 100`},
		{"SIM_OVERLOAD_FACTOR", "0.5", `SIM_OVERLOAD_FACTOR="0.5": want a number from 1 to 100`},
		{"SIM_OVERLOAD_FACTOR", "101", `SIM_OVERLOAD_FACTOR="101": want a number from 1 to 100`},
		{"SIM_OVERLOAD_FACTOR", "2x", `SIM_OVERLOAD_FACTOR="2x": want a number from 1 to 100`},
		{"SIM_PORT", "eighty", `SIM_PORT="eighty": want an integer from 0 to 65535`},
		{"SIM_PORT", "65536", `SIM_PORT="65536": want an integer from 0 to 65535`},
		{"SIM_LISTEN_ADDR", "127.0.0.1:4000", `SIM_LISTEN_ADDR="127.0.0.1:4000": want a host without a port`},
		{"SIM_LISTEN_ADDR", ":4000", `SIM_LISTEN_ADDR=":4000": want a host without a port`},
		{"SIM_LOG_FORMAT", "xml", `SIM_LOG_FORMAT="xml": want one of text, json`},
		{"SIM_LOG_LEVEL", "loud", `SIM_LOG_LEVEL="loud": want one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		_, err := SettingsFromEnv(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%q: err %v, want it to contain %q", tt.name, tt.value, err, tt.want)
		}
	}
}

func TestGeneratedEventsAreBounded(t *testing.T) {
	_, err := ConfigFromEnv(env(map[string]string{"SIM_USERS": "100000", "SIM_EVENTS_PER_USER": "100000"}))
	want := `SIM_EVENTS_PER_USER="100000": want at most 1000000 generated events in all (SIM_USERS=100000 × SIM_EVENTS_PER_USER=100000 is 10000000000)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v, want it to contain %q", err, want)
	}
}

func TestEveryBadVariableIsReportedAtOnce(t *testing.T) {
	_, err := SettingsFromEnv(env(map[string]string{
		"SIM_PORT": "eighty", "SIM_USERS": "-1", "SIM_EVENT_DELAY": "fast",
		"SIM_NETWORK_ERROR_RATE": "2", "SIM_FAILURE_CYCLE": "maybe", "SIM_LOG_LEVEL": "loud",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid simulator configuration:\n") {
		t.Errorf("message %q does not start with the summary line", msg)
	}
	for _, name := range []string{"SIM_PORT", "SIM_USERS", "SIM_EVENT_DELAY", "SIM_NETWORK_ERROR_RATE", "SIM_FAILURE_CYCLE", "SIM_LOG_LEVEL"} {
		if strings.Count(msg, name+"=") != 1 {
			t.Errorf("message does not name %s exactly once:\n%s", name, msg)
		}
	}
	if lines := strings.Count(msg, "\n"); lines != 6 {
		t.Errorf("message has %d line breaks, want one problem per line:\n%s", lines, msg)
	}
	// ConfigFromEnv reports the behaviour variables only: SIM_PORT and the
	// log settings are the standalone binary's business.
	_, err = ConfigFromEnv(env(map[string]string{"SIM_PORT": "eighty", "SIM_LOG_LEVEL": "loud", "SIM_USERS": "-1"}))
	if err == nil || !strings.Contains(err.Error(), "SIM_USERS") || strings.Contains(err.Error(), "SIM_PORT") || strings.Contains(err.Error(), "SIM_LOG_LEVEL") {
		t.Errorf("ConfigFromEnv: %v, want only SIM_USERS named", err)
	}
}

func TestOnlySIMVariablesAreRead(t *testing.T) {
	var read []string
	lookup := func(k string) (string, bool) {
		read = append(read, k)
		switch k {
		case "APP_ENV":
			return "production", true
		case "PORT", "LOG_LEVEL", "LOG_FORMAT", "EVENT_API_BASE_URL":
			return "eighty", true
		}
		return "", false
	}
	s, err := SettingsFromEnv(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if s != (Settings{Config: Defaults(), ListenAddr: "127.0.0.1", Port: 4000, LogFormat: "text", LogLevel: "info"}) {
		t.Errorf("settings %+v changed by non-SIM variables", s)
	}
	if _, err := ConfigFromEnv(lookup); err != nil {
		t.Fatal(err)
	}
	for _, k := range read {
		if !strings.HasPrefix(k, "SIM_") {
			t.Errorf("read %s, which is not a SIM_* variable", k)
		}
	}
}
