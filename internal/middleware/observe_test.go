package middleware

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/platform/logging"
)

func TestPanicIsRecoveredInto500AndLogged(t *testing.T) {
	var logs bytes.Buffer
	var recorded int
	h := Observe(logging.New(&logs, "json", "info"), func(_, _ string, status int, _ time.Duration, _ string) { recorded = status },
		Route("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") })))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/boom", nil)
	req.Header.Set("X-Request-ID", "req-7")
	h.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 500 || body["requestId"] != "req-7" || body["error"] != "Internal server error" {
		t.Errorf("answer %d %s", rec.Code, rec.Body)
	}
	if recorded != 500 {
		t.Errorf("metrics recorded status %d, want 500", recorded)
	}
	out := logs.String()
	if !strings.Contains(out, `"panic":"kaboom"`) || !strings.Contains(out, `"request_id":"req-7"`) || !strings.Contains(out, `"route":"GET /boom"`) {
		t.Errorf("logs lack the panic with its request id:\n%s", out)
	}
}

func TestRequestIDValidation(t *testing.T) {
	tests := []struct {
		in   string
		keep bool
	}{{"abc-123", true}, {"", false}, {"has space", false}, {strings.Repeat("a", 128), true}, {strings.Repeat("a", 129), false}, {"new\nline", false}}
	for _, tt := range tests {
		if got := validRequestID(tt.in); got != tt.keep {
			t.Errorf("validRequestID(%q) = %v, want %v", tt.in, got, tt.keep)
		}
	}
}
