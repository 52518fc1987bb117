package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	valid := []struct {
		in   string
		want Rate
		str  string
	}{
		{"600/1m", Rate{600, time.Minute}, "600/1m"},
		{"10/s", Rate{10, time.Second}, "10/1s"},
		{"50000/1m", Rate{50000, time.Minute}, "50000/1m"},
		{"100/1h", Rate{100, time.Hour}, "100/1h"},
		{"8/m", Rate{8, time.Minute}, "8/1m"},
		{"5/30s", Rate{5, 30 * time.Second}, "5/30s"},
		{"3/1h30m", Rate{3, 90 * time.Minute}, "3/90m"},
		{" 600 / 1m ", Rate{600, time.Minute}, "600/1m"},
		{"1/24h", Rate{1, 24 * time.Hour}, "1/24h"},
		{"", Rate{}, ""},
	}
	for _, tt := range valid {
		got, err := ParseRate(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseRate(%q) = %+v (%q), %v; want %+v (%q)", tt.in, got, got.String(), err, tt.want, tt.str)
		}
		if again, err := ParseRate(got.String()); err != nil || again != got {
			t.Errorf("%q does not read back: %+v %v", got.String(), again, err)
		}
	}
	invalid := []struct{ in, want string }{
		{"600", "no slash"},
		{"600/", "no period after the slash"},
		{"/1m", `count ""`},
		{"0/1m", `count "0": want a whole number from 1`},
		{"-5/1m", `count "-5"`},
		{"ten/1m", `count "ten"`},
		{"1.5/1m", `count "1.5"`},
		{"2000000000/1m", "from 1 to 1073741824"},
		{"600/1x", `period "1x": want a unit (s, m, h) or a Go duration`},
		{"600/min", `period "min"`},
		{"600/0s", `period "0s": want from 1ms to 24h0m0s`},
		{"600/-1m", `period "-1m"`},
		{"1/48h", `period "48h"`},
		{"2000000/1ms", "more than one a nanosecond"},
	}
	for _, tt := range invalid {
		if got, err := ParseRate(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRate(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want int
	}{
		{0, 1}, {-time.Second, 1}, {time.Nanosecond, 1}, {time.Second, 1},
		{time.Second + time.Millisecond, 2}, {7500 * time.Millisecond, 8}, {15 * time.Minute, 900},
	} {
		if got := RetryAfterSeconds(tt.in); got != tt.want {
			t.Errorf("RetryAfterSeconds(%s) = %d; want %d", tt.in, got, tt.want)
		}
	}
}
