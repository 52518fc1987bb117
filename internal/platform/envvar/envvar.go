// Package envvar reads typed settings from environment variables and
// collects every problem, so that a bad configuration is reported whole
// (naming each variable, its value and the accepted form) rather than one
// variable per restart. The gateway's configuration and the simulator's
// settings both read through it.
package envvar

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Reader reads typed variables through a lookup (os.LookupEnv, or a map in
// tests) and collects what is wrong with them. A bad value yields the
// default, so that reading can go on and report everything at once.
type Reader struct {
	lookup   func(string) (string, bool)
	errs     []error
	warnings []string
}

// New returns a Reader over lookup.
func New(lookup func(string) (string, bool)) *Reader { return &Reader{lookup: lookup} }

// Errors are the problems found so far, one per bad variable.
func (r *Reader) Errors() []error { return r.errs }

// Warnings are the things worth logging found so far.
func (r *Reader) Warnings() []string { return r.warnings }

// Warn records msg as a warning.
func (r *Reader) Warn(msg string) { r.warnings = append(r.warnings, msg) }

// Raw returns name's value, trimmed, and whether it is set and not empty.
func (r *Reader) Raw(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// Fail records that name=value is not the accepted form want.
func (r *Reader) Fail(name, value, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: want %s", name, value, want))
}

// Str returns name's value, or def.
func (r *Reader) Str(name, def string) string {
	if v, ok := r.Raw(name); ok {
		return v
	}
	return def
}

// OneOf returns name's value among allowed (case-insensitive), or def.
func (r *Reader) OneOf(name, def string, allowed ...string) string {
	v := r.Str(name, def)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.Fail(name, v, "one of "+strings.Join(allowed, ", "))
	return def
}

// Integer returns name as an integer from lo to hi, or def.
func (r *Reader) Integer(name string, def, lo, hi int) int {
	v, ok := r.Raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.Fail(name, v, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return def
	}
	return n
}

// Float returns name as a number from lo to hi, or def.
func (r *Reader) Float(name string, def, lo, hi float64) float64 {
	v, ok := r.Raw(name)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		r.Fail(name, v, fmt.Sprintf("a number from %g to %g", lo, hi))
		return def
	}
	return f
}

// Duration returns name as a Go duration from lo to hi, or def.
func (r *Reader) Duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.Raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.Fail(name, v, fmt.Sprintf("a Go duration (e.g. 250ms, 2s, 1m) from %s to %s", lo, hi))
		return def
	}
	return d
}

// DurationOrMillis reads name as a Go duration, or, if only the deprecated
// name_MS is set, as the whole number of milliseconds the original
// service's circuit breaker variables used (with a warning to move on).
func (r *Reader) DurationOrMillis(name string, def, lo, hi time.Duration) time.Duration {
	legacy := name + "_MS"
	_, hasNew := r.Raw(name)
	_, hasLegacy := r.Raw(legacy)
	switch {
	case hasNew && hasLegacy:
		r.Warn(fmt.Sprintf("%s and the deprecated %s are both set: using %s", name, legacy, name))
	case hasLegacy:
		r.Warn(fmt.Sprintf("%s is deprecated: use %s with a Go duration (e.g. %s)", legacy, name, def))
		n := r.Integer(legacy, int(def/time.Millisecond), int(lo/time.Millisecond), int(hi/time.Millisecond))
		return time.Duration(n) * time.Millisecond
	}
	return r.Duration(name, def, lo, hi)
}

// Boolean returns name as on/off (true/false, 1/0, yes/no), or def.
func (r *Reader) Boolean(name string, def bool) bool {
	v, ok := r.Raw(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true
	case "off", "false", "0", "no":
		return false
	}
	r.Fail(name, v, "on or off (also true/false, 1/0, yes/no)")
	return def
}

// List returns name as a comma-separated list; empty items are dropped.
func (r *Reader) List(name, def string) []string {
	var out []string
	for _, item := range strings.Split(r.Str(name, def), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Host returns name as a host to listen on, without a port: an IP address
// (IPv6 with or without brackets, a zone allowed) or a DNS name; or def.
// The brackets are dropped (net.JoinHostPort puts them back). A port, a
// scheme, a path or spaces are refused: the port is always a variable of
// its own.
func (r *Reader) Host(name, def string) string {
	v, ok := r.Raw(name)
	if !ok {
		return def
	}
	host, bracketed := strings.CutPrefix(v, "[")
	if bracketed {
		var closed bool
		if host, closed = strings.CutSuffix(host, "]"); !closed {
			host = ""
		}
	}
	if a, err := netip.ParseAddr(host); err == nil && (!bracketed || a.Is6()) {
		return host
	}
	if !bracketed && isDNSName(host) {
		return host
	}
	r.Fail(name, v, "a host without a port (the port is a variable of its own): an IP address such as 127.0.0.1, 0.0.0.0 or ::1, or a name such as localhost")
	return def
}

// isDNSName reports whether s is a host name by RFC 1123: dot-separated
// labels of letters, digits and inner hyphens, each at most 63 bytes, 253
// in all, the last not all digits (that would be a malformed IPv4 address).
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}
