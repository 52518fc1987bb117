package transport

import (
	"mime"
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

// flushLog records what a writer had written at each flush.
type flushLog struct {
	*httptest.ResponseRecorder
	flushed []string
}

func (f *flushLog) Flush() { f.flushed = append(f.flushed, f.Body.String()) }

// Every multipart part is complete, its closing delimiter written, when it
// is flushed: Apollo Client and urql hand a part over only once they read
// the delimiter after it, so a part must not wait for the next one.
func TestMultipartPartsEndWithTheirDelimiterAtOnce(t *testing.T) {
	for _, k := range []partsKind{partsDefer20220824, partsIncrementalV02, partsSubscription} {
		rec := &flushLog{ResponseRecorder: httptest.NewRecorder()}
		w := k.writer(rec)
		w.begin()
		w.write(map[string]any{"data": 1})
		w.write(map[string]any{"data": 2})
		w.end()
		_, params, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
		delim := "\r\n--" + params["boundary"]
		part := "\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
		want := []string{
			delim,
			delim + part + `{"data":1}` + delim,
			delim + part + `{"data":1}` + delim + part + `{"data":2}` + delim,
			delim + part + `{"data":1}` + delim + part + `{"data":2}` + delim + "--\r\n",
		}
		if strings.Join(rec.flushed, "|") != strings.Join(want, "|") {
			t.Errorf("kind %d flushed\n%q\nwant\n%q", k, rec.flushed, want)
		}
	}
}
