package graph_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

// BenchmarkBatchOf5VsFiveRequests compares one operation of a screen that
// needs five users' events, asked as one batch of five operations (what
// Apollo's BatchHttpLink sends) and as five requests sent at once (what a
// client without batching sends), each operation
// { user(id: "uN") { events { id name } } } for a different user. The
// simulator answers at once (EventDelay 0), so the figures are the
// gateway's own work; the entity cache is off, so every operation reaches
// the upstream. Each reports the upstream calls per op (getUserById and
// getEventById; the five users share no event, so both should cost
// 5 + 50), its time and the process's CPU:
//
//	go test -run '^$' -bench BatchOf5 -benchtime 200x ./graph
func BenchmarkBatchOf5VsFiveRequests(b *testing.B) {
	bodies := make([]string, 5)
	for i := range bodies {
		bodies[i] = servicetest.GraphQLBody(fmt.Sprintf(`{ user(id: "u%d") { events { id name } } }`, i+1))
	}
	batch := "[" + strings.Join(bodies, ",") + "]"

	b.Run("batch", func(b *testing.B) {
		benchOperations(b, func(h http.Handler) bool { return serveOK(b, h, batch) })
	})
	b.Run("five-requests", func(b *testing.B) {
		benchOperations(b, func(h http.Handler) bool {
			ok := make([]bool, len(bodies))
			var wg sync.WaitGroup
			for i, body := range bodies {
				wg.Go(func() { ok[i] = serveOK(b, h, body) })
			}
			wg.Wait()
			for _, o := range ok {
				if !o {
					return false
				}
			}
			return true
		})
	})
}

// benchOperations serves op until the benchmark ends, against a gateway
// over 5 users with 10 events each, and reports CPU and upstream calls
// per op.
func benchOperations(b *testing.B, op func(http.Handler) bool) {
	g := graphtest.New(b, eventsim.Config{Users: 5, EventsPerUser: 10}, nil)
	b.ReportAllocs()
	stop := servicetest.ReportCPU(b)
	for b.Loop() {
		if !op(g.Handler) {
			return
		}
	}
	stop()
	servicetest.ReportUpstreamCalls(b, g.Sim)
}

// serveOK POSTs body to /graphql and reports whether it was answered 200
// without errors.
func serveOK(b *testing.B, h http.Handler, body string) bool {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Error(rec.Code, rec.Body.String())
		return false
	}
	return true
}
