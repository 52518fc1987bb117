package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/platform/config"
)

// BenchmarkCachedReadParallel serves the read (a user with 10
// events) through the whole composition, both doors side by side in one
// run, from 32 goroutines, with the entity cache on and the response cache
// on and off: what a repeated read costs each door, and what keeping whole
// answers saves. The entity cache's clock is the wall's; its fresh age
// (5s) outlasts a run of the default benchtime, and refresh-ahead keeps
// answers kept past it.
//
//	go test -run '^$' -bench CachedReadParallel -benchmem -count 6 ./server
func BenchmarkCachedReadParallel(b *testing.B) {
	graphQL := []byte(`{"query":"query UserEvents($id: ID!) { user(id: $id) { events { id name } } }","variables":{"id":"u1"}}`)
	doors := []struct {
		name  string
		serve func(h http.Handler) int
	}{
		{"graphql", func(h http.Handler) int {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(graphQL))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}},
		{"rest", func(h http.Handler) int {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/getEventsByUserId/u1", nil))
			return rec.Code
		}},
	}
	for _, responses := range []bool{true, false} {
		name := map[bool]string{true: "responses-on", false: "responses-off"}[responses]
		g := newGateway(b, eventsim.Config{Users: 1, EventsPerUser: 10}, func(c *config.Config) {
			c.Cache.Enabled = true
			c.Cache.Responses.Enabled = responses
			c.HTTP.ReadyCheckInterval = 0
		})
		for _, door := range doors {
			b.Run(name+"/"+door.name, func(b *testing.B) {
				if code := door.serve(g.app.handler); code != 200 { // warm
					b.Fatalf("warm-up: %d", code)
				}
				b.ReportAllocs()
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if code := door.serve(g.app.handler); code != 200 {
							b.Errorf("status %d", code)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkAuthenticationParallel is what knowing the caller costs per
// request: the same kept GraphQL answer served from 32 goroutines with
// AUTH_MODE=off and with AUTH_MODE=required (an RS256 token verified
// against a JWK Set over HTTP, the identity, the caller's budget), side by
// side in one run.
//
//	go test -run '^$' -bench AuthenticationParallel -benchmem -count 6 ./server
func BenchmarkAuthenticationParallel(b *testing.B) {
	p := newIDP(b)
	token := "Bearer " + p.token(b, "u1", "", time.Hour, false)
	body := []byte(`{"query":"query UserEvents($id: ID!) { user(id: $id) { events { id name } } }","variables":{"id":"u1"}}`)
	for _, mode := range []string{"off", "required"} {
		g := newGateway(b, eventsim.Config{Users: 1, EventsPerUser: 10}, func(c *config.Config) {
			c.Cache.Enabled = true
			c.HTTP.ReadyCheckInterval = 0
			if mode == "required" {
				c.Auth.Mode, c.Auth.JWKSURL, c.Auth.Issuer, c.Auth.Audience = identity.Required, p.url, testIssuer, testAudience
			}
		})
		serve := func() int {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", token)
			rec := httptest.NewRecorder()
			g.app.handler.ServeHTTP(rec, req)
			return rec.Code
		}
		b.Run("auth-"+mode, func(b *testing.B) {
			if code := serve(); code != 200 {
				b.Fatalf("warm-up: %d", code)
			}
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := serve(); code != 200 {
						b.Errorf("status %d", code)
						return
					}
				}
			})
		})
	}
}
