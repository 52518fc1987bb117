package transport

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// CSRF lets through what a browser cannot send cross-site without a
// preflight, and blocks the rest before the handler runs.
func TestCSRFBlocksSimpleRequests(t *testing.T) {
	tests := []struct {
		name, method, contentType string
		header                    map[string]string
		pass                      bool
	}{
		{"JSON POST", "POST", "application/json", nil, true},
		{"form POST", "POST", "application/x-www-form-urlencoded", nil, false},
		{"text POST", "POST", "text/plain", nil, false},
		{"GET without a header", "GET", "", nil, false},
		{"GET with Apollo-Require-Preflight", "GET", "", map[string]string{"Apollo-Require-Preflight": "true"}, true},
		{"GET with X-Apollo-Operation-Name", "GET", "", map[string]string{"X-Apollo-Operation-Name": "Q"}, true},
		{"preflight", "OPTIONS", "", nil, true},
		{"WebSocket upgrade", "GET", "", map[string]string{"Upgrade": "websocket"}, true},
		{"unparseable content type", "POST", "a/b; ;", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached := false
			h := CSRF(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
			r := httptest.NewRequest(tt.method, "/graphql", nil)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if reached != tt.pass {
				t.Fatalf("reached the handler: %v, want %v (%d %s)", reached, tt.pass, rec.Code, rec.Body)
			}
			if !tt.pass && (rec.Code != 400 || !strings.Contains(rec.Body.String(), "Cross-Site Request Forgery")) {
				t.Errorf("blocked with %d %s; want 400 naming CSRF", rec.Code, rec.Body)
			}
		})
	}
}

// rewrite gives a stream transport's error answer the spec's form: no
// "data", a code on every error, 200 instead of 422 for application/json.
func TestRewriteOfAStreamTransportsErrorAnswer(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantStatus  int
		wantCode    string
	}{
		{"validation, JSON", 422, "application/json", `{"errors":[{"message":"bad","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"data":null}`, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"validation, graphql-response+json", 422, "application/graphql-response+json", `{"errors":[{"message":"bad"}],"data":null}`, 422, "BAD_REQUEST"},
		{"uncoded 400", 400, "application/json", `{"errors":[{"message":"bad"}]}`, 400, "BAD_REQUEST"},
		{"uncoded 500", 500, "application/json", `{"errors":[{"message":"boom"}]}`, 500, "INTERNAL_SERVER_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rewrite(tt.status, tt.contentType, []byte(tt.body))
			var got map[string]json.RawMessage
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if _, has := got["data"]; has || status != tt.wantStatus || !strings.Contains(string(got["errors"]), `"code":"`+tt.wantCode+`"`) {
				t.Errorf("%d %s; want %d, code %s, no data", status, body, tt.wantStatus, tt.wantCode)
			}
		})
	}
	if status, body := rewrite(502, "text/html", []byte("<html>")); status != 502 || string(body) != "<html>" {
		t.Errorf("a body that is not a GraphQL answer was changed: %d %s", status, body)
	}
}
