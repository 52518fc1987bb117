package gateway

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
)

// The handler benchmarks serve one request at a time through the whole
// gateway (middleware, GraphQL or REST, loaders, upstream client) against a
// simulator with no delay: what they measure is the gateway's own cost.

func benchGateway(b *testing.B) *gateway {
	b.Helper()
	return newGateway(b, eventsim.Config{Users: 1, EventsPerUser: 10}, nil)
}

func BenchmarkGraphQLUserEvents(b *testing.B) {
	g := benchGateway(b)
	body := []byte(`{"query":"query UserEvents($id: ID!) { user(id: $id) { events { id name } } }","variables":{"id":"u1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.app.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

func BenchmarkRESTEventsByUserID(b *testing.B) {
	g := benchGateway(b)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		g.app.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/getEventsByUserId/u1", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		_, _ = io.Copy(io.Discard, rec.Body)
	}
}
