package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadBody(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		length int64
		want   string
		err    bool
	}{
		{"as announced", `{"query":"{ users { id } }"}`, 28, `{"query":"{ users { id } }"}`, false},
		{"no length", `{"a":1}`, -1, `{"a":1}`, false},
		{"empty", ``, 0, ``, false},
		{"shorter than announced", `{"a":1}`, 20, ``, true},
		{"longer than announced", `{"a":1}xyz`, 7, `{"a":1}xyz`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBody(strings.NewReader(tt.body), tt.length)
			if (err != nil) != tt.err || (!tt.err && string(got) != tt.want) {
				t.Errorf("%q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// A body over the limit is refused with 413 whether or not it announced
// its length, and the handler never runs.
func TestLimitsRefuseOversizeBodies(t *testing.T) {
	h := Limits(10, 1<<10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	for _, announce := range []bool{true, false} {
		r := httptest.NewRequest("POST", "/graphql", io.NopCloser(strings.NewReader(strings.Repeat("x", 11))))
		if !announce {
			r.ContentLength = -1
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("announced %v: %d %s; want 413", announce, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/graphql", strings.NewReader("0123456789")))
	if rec.Code != 200 || rec.Body.String() != "0123456789" {
		t.Errorf("at the limit: %d %q", rec.Code, rec.Body)
	}
}
