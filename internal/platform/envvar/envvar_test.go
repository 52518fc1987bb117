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
