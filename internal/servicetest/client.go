package servicetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is an Env serving its doors over HTTP.
type Server struct {
	*Env
	URL     string
	Handler http.Handler
}

// GraphQLError is a GraphQL error as the wire carries it.
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL answer as the wire carries it, with its status.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []GraphQLError  `json:"errors"`
	Status int             `json:"-"`
}

// Query posts a GraphQL query to /graphql and decodes the answer.
func (s *Server) Query(t testing.TB, query string, vars map[string]any) Response {
	t.Helper()
	out, err := s.TryQuery(query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TryQuery is Query for goroutines other than the test's, which must not
// call t.Fatal: it returns the failure instead.
func (s *Server) TryQuery(query string, vars map[string]any) (Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, raw, err := Send(http.MethodPost, s.URL+"/graphql", "application/json", string(body), nil)
	if err != nil {
		return Response{}, err
	}
	var out Response
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return out, fmt.Errorf("decode GraphQL answer %q: %w", raw, err)
	}
	out.Status = resp.StatusCode
	return out, nil
}

// Get fetches a route and decodes its JSON body into out.
func (s *Server) Get(t testing.TB, path string, out any) int {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q, want JSON", path, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return resp.StatusCode
}

// Post sends a request with a JSON body and headers, and decodes the JSON
// answer into out (unless nil).
func (s *Server) Post(t testing.TB, path, body string, header map[string]string, out any) *http.Response {
	t.Helper()
	resp, raw := Do(t, http.MethodPost, s.URL+path, "application/json", body, header)
	if out != nil {
		MustUnmarshal(t, []byte(raw), out)
	}
	return resp
}

// Do sends a request and returns the response with its body read.
func Do(t testing.TB, method, url, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	resp, raw, err := Send(method, url, contentType, body, header)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// Send is Do for goroutines other than the test's: it returns the failure.
func Send(method, url, contentType, body string, header map[string]string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, "", fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return resp, string(b), nil
}

// MustUnmarshal decodes data into v or fails t.
func MustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}

// GraphQLBody is the POST body of query.
func GraphQLBody(query string) string {
	b, _ := json.Marshal(map[string]any{"query": query})
	return string(b)
}

// Clock is a settable clock for the time-based parts.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at 2026-01-01T00:00:00Z.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
