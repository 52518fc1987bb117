package eventsim

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/eventms/gateway/internal/platform/envvar"
)

// MaxGeneratedEvents bounds SIM_USERS × SIM_EVENTS_PER_USER, so that a
// configuration the reader accepts cannot exhaust memory at start-up.
const MaxGeneratedEvents = 1_000_000

// Settings is what the simulator run alone (cmd/eventsim) reads from its
// SIM_* variables: the simulator's Config plus where and how the process
// listens and logs. Defaults, with no variable set:
//
//	Config      see Config: the Defaults() values
//	ListenAddr  SIM_LISTEN_ADDR  127.0.0.1  host to listen on, without a port: an IP address or a name; 0.0.0.0 or :: for every interface
//	Port        SIM_PORT         4000       TCP port (0..65535; 0 picks a free one)
//	LogFormat   SIM_LOG_FORMAT   text       text or json, to stderr
//	LogLevel    SIM_LOG_LEVEL    info       debug, info, warn or error
//
// The loopback by default: a test double of someone else's API, answering
// anyone who reaches the machine, is not something to expose by accident
// (a container, whose loopback nobody else reaches, sets 0.0.0.0).
type Settings struct {
	Config     Config
	ListenAddr string
	Port       int
	LogFormat  string
	LogLevel   string
}

// Address is where the simulator listens, for net.Listen: ListenAddr's
// host and Port ("127.0.0.1:4000", "[::1]:4000").
func (s Settings) Address() string {
	return net.JoinHostPort(s.ListenAddr, strconv.Itoa(s.Port))
}

// ConfigFromEnv reads the simulator's Config from the SIM_* variables that
// tune its behaviour (SIM_EVENT_DELAY, SIM_NETWORK_ERROR_RATE,
// SIM_FAILURE_CYCLE, SIM_USERS, SIM_EVENTS_PER_USER, SIM_CAPACITY,
// SIM_OVERLOAD_FACTOR) through lookup, e.g.
// os.LookupEnv. Unset or blank variables take their Defaults() value; no other
// variable is read. The error names every invalid variable, its value and the
// accepted form, one per line.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	r := envvar.New(lookup)
	c := readConfig(r)
	if err := settingsErr(r); err != nil {
		return Config{}, err
	}
	return c, nil
}

// SettingsFromEnv reads everything ConfigFromEnv reads plus SIM_LISTEN_ADDR,
// SIM_PORT, SIM_LOG_FORMAT and SIM_LOG_LEVEL, which only the simulator run
// alone uses,
// and reports every invalid variable at once in the same way.
func SettingsFromEnv(lookup func(string) (string, bool)) (Settings, error) {
	r := envvar.New(lookup)
	s := Settings{
		Config:     readConfig(r),
		ListenAddr: r.Host("SIM_LISTEN_ADDR", DefaultListenAddr),
		Port:       r.Integer("SIM_PORT", 4000, 0, 65535),
		LogFormat:  r.OneOf("SIM_LOG_FORMAT", "text", "text", "json"),
		LogLevel:   r.OneOf("SIM_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
	}
	if err := settingsErr(r); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// DefaultListenAddr is SIM_LISTEN_ADDR's default: the loopback only.
const DefaultListenAddr = "127.0.0.1"

// readConfig reads the SIM_* variables that tune the simulator.
func readConfig(r *envvar.Reader) Config {
	d := Defaults()
	c := Config{
		EventDelay:       r.Duration("SIM_EVENT_DELAY", d.EventDelay, 0, time.Minute),
		NetworkErrorRate: r.Float("SIM_NETWORK_ERROR_RATE", d.NetworkErrorRate, 0, 1),
		FailureCycle:     r.Boolean("SIM_FAILURE_CYCLE", d.FailureCycle),
		FailureDelay:     d.FailureDelay,
		Users:            r.Integer("SIM_USERS", d.Users, 0, 100000),
		EventsPerUser:    r.Integer("SIM_EVENTS_PER_USER", d.EventsPerUser, 0, 100000),
		Capacity:         r.Integer("SIM_CAPACITY", d.Capacity, 0, 1000000),
		OverloadFactor:   r.Float("SIM_OVERLOAD_FACTOR", d.OverloadFactor, 1, 100),
	}
	if n := int64(c.Users) * int64(c.EventsPerUser); n > MaxGeneratedEvents {
		r.Fail("SIM_EVENTS_PER_USER", strconv.Itoa(c.EventsPerUser), fmt.Sprintf(
			"at most %d generated events in all (SIM_USERS=%d × SIM_EVENTS_PER_USER=%d is %d)",
			MaxGeneratedEvents, c.Users, c.EventsPerUser, n))
	}
	return c
}

func settingsErr(r *envvar.Reader) error {
	if errs := r.Errors(); len(errs) > 0 {
		return fmt.Errorf("invalid simulator configuration:\n%w", errors.Join(errs...))
	}
	return nil
}
