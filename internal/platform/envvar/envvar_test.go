package envvar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEveryBadVariableIsReportedWithItsForm(t *testing.T) {
	env := map[string]string{"N": "x", "D": "5", "B": "maybe", "F": "NaN", "O": "loud", "OK": " 7 ", "L": "a, ,b"}
	r := New(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if got := r.Integer("OK", 1, 0, 10); got != 7 {
		t.Errorf("trimmed integer: %d", got)
	}
	if got := r.Integer("N", 3, 0, 10); got != 3 {
		t.Errorf("bad integer gives the default: %d", got)
	}
	r.Duration("D", time.Second, 0, time.Hour)
	r.Boolean("B", true)
	r.Float("F", 0.5, 0, 1)
	r.OneOf("O", "info", "debug", "info")
	if got := r.List("L", ""); len(got) != 2 || got[1] != "b" {
		t.Errorf("list: %q", got)
	}
	msg := errors.Join(r.Errors()...).Error()
	for _, want := range []string{`N="x": want an integer from 0 to 10`, `D="5": want a Go duration`,
		`B="maybe": want on or off`, `F="NaN": want a number from 0 to 1`, `O="loud": want one of debug, info`} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors %q lack %q", msg, want)
		}
	}
	if len(r.Errors()) != 5 {
		t.Errorf("%d errors; want 5", len(r.Errors()))
	}
}

// Host takes an address to listen on without its port: an IP address (an
// IPv6 one with or without brackets) or a DNS name, and refuses anything
// with a port, a scheme, a path or spaces.
func TestHost(t *testing.T) {
	tests := []struct {
		value, want string
		ok          bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{" 0.0.0.0 ", "0.0.0.0", true},
		{"::1", "::1", true},
		{"[::1]", "::1", true},
		{"::", "::", true},
		{"fe80::1%eth0", "fe80::1%eth0", true},
		{"localhost", "localhost", true},
		{"gateway-1.internal.example", "gateway-1.internal.example", true},
		{"127.0.0.1:3000", "", false},
		{":3000", "", false},
		{"[::1]:3000", "", false},
		{"http://localhost", "", false},
		{"localhost/", "", false},
		{"local host", "", false},
		{"-bad.example", "", false},
		{"bad-.example", "", false},
		{"a..b", "", false},
		{"256.0.0.1", "", false},
		{"1.2.3", "", false},
		{"[localhost]", "", false},
		{strings.Repeat("a", 64) + ".example", "", false},
	}
	for _, tt := range tests {
		r := New(func(string) (string, bool) { return tt.value, true })
		got := r.Host("H", "default")
		switch {
		case tt.ok && (got != tt.want || len(r.Errors()) != 0):
			t.Errorf("Host(%q) = %q, %v; want %q", tt.value, got, r.Errors(), tt.want)
		case !tt.ok && (got != "default" || len(r.Errors()) != 1 ||
			!strings.Contains(r.Errors()[0].Error(), "want a host without a port")):
			t.Errorf("Host(%q) = %q, %v; want the default and an error naming the form", tt.value, got, r.Errors())
		}
	}
	r := New(func(string) (string, bool) { return "  ", true })
	if got := r.Host("H", "127.0.0.1"); got != "127.0.0.1" || len(r.Errors()) != 0 {
		t.Errorf("blank: %q %v; want the default", got, r.Errors())
	}
}
