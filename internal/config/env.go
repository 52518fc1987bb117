package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// reader reads typed variables and collects every problem, so that a bad
// configuration is reported whole rather than one variable per restart.
type reader struct {
	lookup   func(string) (string, bool)
	errs     []error
	warnings []string
}

func (r *reader) warn(msg string) { r.warnings = append(r.warnings, msg) }

func (r *reader) raw(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (r *reader) fail(name, value, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: want %s", name, value, want))
}

func (r *reader) str(name, def string) string {
	if v, ok := r.raw(name); ok {
		return v
	}
	return def
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := r.str(name, def)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.fail(name, v, "one of "+strings.Join(allowed, ", "))
	return def
}

func (r *reader) integer(name string, def, lo, hi int) int {
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

func (r *reader) float(name string, def, lo, hi float64) float64 {
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

func (r *reader) duration(name string, def, lo, hi time.Duration) time.Duration {
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

// durationOrMillis reads name as a Go duration, or, if only the deprecated
// name_MS is set, as the whole number of milliseconds the original
// service's circuit breaker variables used (with a warning to move on).
func (r *reader) durationOrMillis(name string, def, lo, hi time.Duration) time.Duration {
	legacy := name + "_MS"
	_, hasNew := r.raw(name)
	_, hasLegacy := r.raw(legacy)
	switch {
	case hasNew && hasLegacy:
		r.warn(fmt.Sprintf("%s and the deprecated %s are both set: using %s", name, legacy, name))
	case hasLegacy:
		r.warn(fmt.Sprintf("%s is deprecated: use %s with a Go duration (e.g. %s)", legacy, name, def))
		n := r.integer(legacy, int(def/time.Millisecond), int(lo/time.Millisecond), int(hi/time.Millisecond))
		return time.Duration(n) * time.Millisecond
	}
	return r.duration(name, def, lo, hi)
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true
	case "off", "false", "0", "no":
		return false
	}
	r.fail(name, v, "on or off (also true/false, 1/0, yes/no)")
	return def
}

// list reads a comma-separated list; empty items are dropped.
func (r *reader) list(name, def string) []string {
	var out []string
	for _, item := range strings.Split(r.str(name, def), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
