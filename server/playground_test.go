package main

import (
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// GraphQL Playground is a development tool, like GraphiQL: served at
// /playground (its files under /ide/) when GRAPHQL_IDE is on, the default
// in development; production's default leaves both page and files 404.
func TestPlaygroundOnlyInDevelopment(t *testing.T) {
	env := map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal", "AUTH_MODE": "off"}
	prod, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mod    func(*config.Config)
		status int
	}{
		{"development", nil, 200},
		{"production", func(c *config.Config) { c.GraphQL = prod.GraphQL }, 404},
		{"GRAPHQL_IDE off", func(c *config.Config) { c.GraphQL.IDE = false }, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, eventsim.Config{}, tt.mod)
			resp, body := servicetest.Do(t, "GET", g.url+"/playground", "", "", nil)
			if resp.StatusCode != tt.status || tt.status == 200 && !strings.Contains(body, "GraphQLPlayground.init(") {
				t.Errorf("/playground: %d %.200s, want %d", resp.StatusCode, body, tt.status)
			}
			if resp, _ := servicetest.Do(t, "GET", g.url+"/ide/playground/middleware.js", "", "", nil); resp.StatusCode != tt.status {
				t.Errorf("/ide/playground/middleware.js: %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}
