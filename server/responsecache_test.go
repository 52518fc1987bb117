package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// replicaOver is a gateway of env's configuration over up.
func replicaOver(t *testing.T, up string, env map[string]string) string {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	a, err := newTestApp(cfg, up, servicetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// xcache reads path (GET) or posts query to /graphql, and returns X-Cache.
func xcache(t *testing.T, url, query string) string {
	t.Helper()
	if strings.HasPrefix(query, "/") {
		resp, body := servicetest.Do(t, "GET", url+query, "", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", query, resp.StatusCode, body)
		}
		return resp.Header.Get("X-Cache")
	}
	resp, body := servicetest.Do(t, "POST", url+"/graphql", "application/json", servicetest.GraphQLBody(query), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", query, resp.StatusCode, body)
	}
	return resp.Header.Get("X-Cache")
}

// Whole answers of both doors are kept in each replica and purged in every
// replica: by the write that changes them, and by the purge API, which
// only ADMIN_TOKEN's bearer may call.
func TestKeptAnswersArePurgedAcrossTheFleet(t *testing.T) {
	rs := redistest.Start(t)
	prefix := redistest.Prefix(t)
	up := httptest.NewServer(eventsim.New(eventsim.Config{}))
	t.Cleanup(up.Close)
	const admin = "an-admin-token-of-32-characters!"
	env := map[string]string{"REDIS_URL": rs.URL(), "REDIS_KEY_PREFIX": prefix, "ADMIN_TOKEN": admin,
		"UPSTREAM_RETRY_BASE": "1ms", "UPSTREAM_RETRY_MAX": "5ms"}
	a, b := replicaOver(t, up.URL, env), replicaOver(t, up.URL, env)
	reads := []string{`{ user(id: "1") { userName events { id } } }`, "/getEventsByUserId/1", `{ event(id: "event-2") { name } }`}
	warm := func() {
		t.Helper()
		for _, r := range []string{a, b} {
			for _, q := range reads {
				xcache(t, r, q)
				testwait.Until(t, "the answer to "+q+" kept", func() bool { return xcache(t, r, q) == "hit" })
			}
		}
	}
	purge := func(token, body string) (int, string) {
		resp, out := servicetest.Do(t, "POST", a+"/admin/cache/purge", "application/json", body, map[string]string{"Authorization": "Bearer " + token})
		return resp.StatusCode, out
	}

	warm()
	t.Run("the purge API refuses a wrong token and bad input, purging nothing", func(t *testing.T) {
		for token, body := range map[string]string{"": `{"all": true}`, "wrong-token-of-32-characters!!!!": `{"all": true}`, admin: `{"tags": ["Venue:1"]}`} {
			status, out := purge(token, body)
			if want := map[bool]int{true: 400, false: 401}[token == admin]; status != want {
				t.Errorf("token %q, %s: %d %s; want %d", token, body, status, out, want)
			}
		}
		for _, r := range []string{a, b} {
			for _, q := range reads {
				if got := xcache(t, r, q); got != "hit" {
					t.Errorf("%s at %s after refused purges: X-Cache %q; want still kept", q, r, got)
				}
			}
		}
	})
	t.Run("a purge of User:1 at one replica purges what holds user 1 at both", func(t *testing.T) {
		if status, out := purge(admin, `{"tags": ["User:1"]}`); status != 200 || !strings.Contains(out, `"user:1"`) {
			t.Fatalf("%d %s", status, out)
		}
		for _, r := range []string{a, b} {
			testwait.Until(t, "user 1's answers purged at "+r, func() bool {
				return xcache(t, r, reads[0]) != "hit" && xcache(t, r, reads[1]) != "hit"
			})
			if got := xcache(t, r, reads[2]); got != "hit" {
				t.Errorf("event-2's answer at %s: X-Cache %q; want it untouched", r, got)
			}
		}
	})
	t.Run("a write at one replica purges at both", func(t *testing.T) {
		warm()
		resp, out := servicetest.Do(t, "POST", b+"/addEvent", "application/json", `{"name": "Fleet news", "userId": "1"}`, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("addEvent: %d %s", resp.StatusCode, out)
		}
		for _, r := range []string{a, b} {
			testwait.Until(t, "the new event in user 1's answer at "+r, func() bool {
				_, body := servicetest.Do(t, "POST", r+"/graphql", "application/json", servicetest.GraphQLBody(reads[0]), nil)
				return strings.Count(body, `"id"`) == 3
			})
		}
	})
	t.Run("all", func(t *testing.T) {
		warm()
		if status, out := purge(admin, `{"all": true}`); status != 200 {
			t.Fatalf("%d %s", status, out)
		}
		for _, r := range []string{a, b} {
			testwait.Until(t, "every answer purged at "+r, func() bool {
				return xcache(t, r, reads[2]) != "hit"
			})
		}
	})
}

// With authentication on, purging needs the admin scope: 401 without a
// token, 403 without the scope; ADMIN_TOKEN is then not accepted.
func TestPurgeNeedsTheAdminScope(t *testing.T) {
	p := newIDP(t)
	up := httptest.NewServer(eventsim.New(eventsim.Config{}))
	t.Cleanup(up.Close)
	url := replicaOver(t, up.URL, map[string]string{"AUTH_MODE": "optional", "AUTH_JWKS_URL": p.url, "AUTH_ISSUER": testIssuer,
		"AUTH_AUDIENCE": testAudience, "ADMIN_TOKEN": "an-admin-token-of-32-characters!"})
	for name, tt := range map[string]struct {
		token  string
		status int
	}{
		"no token":      {"", 401},
		"ADMIN_TOKEN":   {"an-admin-token-of-32-characters!", 401},
		"a user":        {p.token(t, "3", "events:read", time.Hour, false), 403},
		"an admin":      {p.token(t, "9", "events:admin", time.Hour, false), 200},
		"forged admin":  {p.token(t, "9", "events:admin", time.Hour, true), 401},
		"expired admin": {p.token(t, "9", "events:admin", -time.Minute, false), 401},
	} {
		h := map[string]string{}
		if tt.token != "" {
			h["Authorization"] = "Bearer " + tt.token
		}
		resp, body := servicetest.Do(t, "POST", url+"/admin/cache/purge", "application/json", `{"tags": ["users"]}`, h)
		if resp.StatusCode != tt.status || (tt.status == 401) != (resp.Header.Get("WWW-Authenticate") != "") {
			t.Errorf("%s: %d %s (WWW-Authenticate %q); want %d", name, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"), tt.status)
		}
	}
}
