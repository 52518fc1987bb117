package eventsim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxGeneratedEvents bounds SIM_USERS × SIM_EVENTS_PER_USER, so that a
// configuration the reader accepts cannot exhaust memory at start-up.
const MaxGeneratedEvents = 1_000_000

// Settings is what the simulator run alone (cmd/eventsim) reads from its
// SIM_* variables: the simulator's Config plus where and how the process
// listens and logs. Defaults, with no variable set:
//
//	Config     see Config: the Defaults() values
//	Port       SIM_PORT        4000  TCP port, on every interface (0..65535; 0 picks a free one)
//	LogFormat  SIM_LOG_FORMAT  text  text or json, to stderr
//	LogLevel   SIM_LOG_LEVEL   info  debug, info, warn or error
type Settings struct {
	Config    Config
	Port      int
	LogFormat string
	LogLevel  string
}

// ConfigFromEnv reads the simulator's Config from the SIM_* variables that
// tune its behaviour (SIM_EVENT_DELAY, SIM_NETWORK_ERROR_RATE,
// SIM_FAILURE_CYCLE, SIM_USERS, SIM_EVENTS_PER_USER) through lookup, e.g.
// os.LookupEnv. Unset or blank variables take their Defaults() value; no other
// variable is read. The error names every invalid variable, its value and the
// accepted form, one per line.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	r := &envReader{lookup: lookup}
	c := r.config()
	if err := r.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// SettingsFromEnv reads everything ConfigFromEnv reads plus SIM_PORT,
// SIM_LOG_FORMAT and SIM_LOG_LEVEL, which only the simulator run alone uses,
// and reports every invalid variable at once in the same way.
func SettingsFromEnv(lookup func(string) (string, bool)) (Settings, error) {
	r := &envReader{lookup: lookup}
	s := Settings{
		Config:    r.config(),
		Port:      r.integer("SIM_PORT", 4000, 0, 65535),
		LogFormat: r.oneOf("SIM_LOG_FORMAT", "text", "text", "json"),
		LogLevel:  r.oneOf("SIM_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
	}
	if err := r.err(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// envReader reads typed variables and collects every problem, so that a bad
// configuration is reported whole rather than one variable per restart.
type envReader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *envReader) config() Config {
	d := Defaults()
	c := Config{
		EventDelay:       r.duration("SIM_EVENT_DELAY", d.EventDelay, 0, time.Minute),
		NetworkErrorRate: r.float("SIM_NETWORK_ERROR_RATE", d.NetworkErrorRate, 0, 1),
		FailureCycle:     r.boolean("SIM_FAILURE_CYCLE", d.FailureCycle),
		FailureDelay:     d.FailureDelay,
		Users:            r.integer("SIM_USERS", d.Users, 0, 100000),
		EventsPerUser:    r.integer("SIM_EVENTS_PER_USER", d.EventsPerUser, 0, 100000),
	}
	if n := int64(c.Users) * int64(c.EventsPerUser); n > MaxGeneratedEvents {
		r.fail("SIM_EVENTS_PER_USER", strconv.Itoa(c.EventsPerUser), fmt.Sprintf(
			"at most %d generated events in all (SIM_USERS=%d × SIM_EVENTS_PER_USER=%d is %d)",
			MaxGeneratedEvents, c.Users, c.EventsPerUser, n))
	}
	return c
}

func (r *envReader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid simulator configuration:\n%w", errors.Join(r.errs...))
}

func (r *envReader) raw(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (r *envReader) fail(name, value, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: want %s", name, value, want))
}

func (r *envReader) oneOf(name, def string, allowed ...string) string {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.fail(name, v, "one of "+strings.Join(allowed, ", "))
	return def
}

func (r *envReader) integer(name string, def, lo, hi int) int {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, v, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return def
	}
	return n
}

func (r *envReader) float(name string, def, lo, hi float64) float64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		r.fail(name, v, fmt.Sprintf("a number from %g to %g", lo, hi))
		return def
	}
	return f
}

func (r *envReader) duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(name, v, fmt.Sprintf("a Go duration (e.g. 250ms, 2s, 1m) from %s to %s", lo, hi))
		return def
	}
	return d
}

func (r *envReader) boolean(name string, def bool) bool {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	if b, ok := parseBool(v); ok {
		return b
	}
	r.fail(name, v, boolForm)
	return def
}

const boolForm = "on or off (also true/false, 1/0, yes/no)"

func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "1", "yes":
		return true, true
	case "off", "false", "0", "no":
		return false, true
	}
	return false, false
}
