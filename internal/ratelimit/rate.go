package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a budget: N units per period Per, spendable at once (a burst of
// N) and refilled evenly (one unit every Per/N). The zero Rate is off.
type Rate struct {
	N   int
	Per time.Duration
}

// Bounds of a Rate: a period from a millisecond to a day, and a count that
// keeps the arithmetic of both limiters (float64 seconds) exact enough.
const (
	minPer = time.Millisecond
	maxPer = 24 * time.Hour
	maxN   = 1 << 30
)

// IsZero reports whether r is off.
func (r Rate) IsZero() bool { return r == Rate{} }

// String gives r in the form ParseRate reads, e.g. "600/1m".
func (r Rate) String() string {
	if r.IsZero() {
		return ""
	}
	per := r.Per.String()
	switch {
	case r.Per%time.Hour == 0:
		per = strconv.FormatInt(int64(r.Per/time.Hour), 10) + "h"
	case r.Per%time.Minute == 0:
		per = strconv.FormatInt(int64(r.Per/time.Minute), 10) + "m"
	}
	return strconv.Itoa(r.N) + "/" + per
}

// ParseRate reads a rate written N/period: a whole number, a slash, and a
// period that is a unit alone (s, m, h: one of it) or a Go duration
// ("1m", "30s", "1h30m"). Examples: 600/1m, 10/s, 50000/1m, 100/1h. The
// empty string is the zero Rate, which is off.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Rate{}, nil
	}
	count, period, found := strings.Cut(s, "/")
	if !found {
		return Rate{}, errors.New("no slash: want N/period, e.g. 600/1m, 10/s or 100/1h")
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 || n > maxN {
		return Rate{}, fmt.Errorf("count %q: want a whole number from 1 to %d before the slash", count, maxN)
	}
	per, err := parsePeriod(strings.TrimSpace(period))
	if err != nil {
		return Rate{}, err
	}
	if per/time.Duration(n) == 0 {
		return Rate{}, fmt.Errorf("%d per %s is more than one a nanosecond", n, per)
	}
	return Rate{N: n, Per: per}, nil
}

func parsePeriod(p string) (time.Duration, error) {
	var d time.Duration
	switch p {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	case "":
		return 0, errors.New("no period after the slash: want a unit (s, m, h) or a duration (30s, 1m, 1h)")
	default:
		var err error
		if d, err = time.ParseDuration(p); err != nil {
			return 0, fmt.Errorf("period %q: want a unit (s, m, h) or a Go duration (30s, 1m, 1h)", p)
		}
	}
	if d < minPer || d > maxPer {
		return 0, fmt.Errorf("period %q: want from %s to %s", p, minPer, maxPer)
	}
	return d, nil
}
