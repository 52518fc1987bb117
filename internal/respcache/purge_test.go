package respcache

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestTagNamesWhatOperatorsWrite(t *testing.T) {
	tests := map[string]string{
		"User:3":        "user:3",
		"user:3":        "user:3",
		"EVENT:event-4": "event:event-4",
		"users":         "users",
		"Events":        "events",
		"User:":         "",
		"user":          "",
		"Venue:1":       "",
		"users:1":       "",
		"":              "",
		"*":             "",
	}
	for name, want := range tests {
		if got := Tag(name); got != want {
			t.Errorf("Tag(%q) = %q; want %q", name, got, want)
		}
	}
}

// The purge API names what is wrong with a bad request, answers 400 (413
// past its size) and purges nothing; a good one purges the tags it names,
// as the entity cache spells them, and says how many answers went.
func TestPurgeHandler(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		status   int
		mentions string
		tags     []string
	}{
		{"tags", `{"tags": ["User:3", "events"]}`, 200, `"purged":2`, []string{"user:3", "events"}},
		{"all", `{"all": true}`, 200, `"purged":2`, []string{"*"}},
		{"not JSON", `{"tags": [`, 400, "body: must be", nil},
		{"wrong type", `{"tags": "User:3"}`, 400, "body: must be", nil},
		{"unknown field", `{"tag": ["User:3"]}`, 400, `unknown field \"tag\"`, nil},
		{"no tags", `{"tags": []}`, 400, "tags: must name at least one tag", nil},
		{"empty body", ``, 400, "body: must be", nil},
		{"both", `{"tags": ["users"], "all": true}`, 400, "tags or all, not both", nil},
		{"not a tag", `{"tags": ["users", "Venue:1"]}`, 400, `tags[1]: \"Venue:1\" is no tag`, nil},
		{"oversize", `{"tags": ["` + strings.Repeat("u", maxPurgeBody) + `"]}`, 413, "larger than 65536 bytes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var purged []string
			called := false
			h := PurgeHandler(func(_ context.Context, tags []string) int {
				called, purged = true, tags
				return 2
			}, func(http.ResponseWriter, *http.Request) bool { return true })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/admin/cache/purge", strings.NewReader(tt.body)))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.mentions) {
				t.Errorf("%d %s; want %d mentioning %s", rec.Code, rec.Body, tt.status, tt.mentions)
			}
			if called != (tt.status == 200) || !slices.Equal(purged, tt.tags) {
				t.Errorf("purged %v (called %v); want %v", purged, called, tt.tags)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q; want no-store", cc)
			}
			if rec.Code == 200 {
				var got struct {
					Tags []string `json:"tags"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || !slices.Equal(got.Tags, tt.tags) {
					t.Errorf("answer tags %v (%v); want %v", got.Tags, err, tt.tags)
				}
			}
		})
	}
}

// A request the authorizer refuses gets its refusal and purges nothing.
func TestPurgeHandlerAsksFirst(t *testing.T) {
	called := false
	h := PurgeHandler(func(context.Context, []string) int { called = true; return 0 },
		func(w http.ResponseWriter, _ *http.Request) bool { w.WriteHeader(http.StatusForbidden); return false })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/admin/cache/purge", strings.NewReader(`{"all": true}`)))
	if rec.Code != 403 || called {
		t.Errorf("%d, purged %v; want 403 and nothing purged", rec.Code, called)
	}
}

// Keys tell apart what the answer depends on, and nothing else.
func TestKeyOf(t *testing.T) {
	long := strings.Repeat("q", inlineBody+1)
	req := func(method, target, accept string) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		r.Header.Set("X-Request-ID", target+accept) // no part of the key
		return r
	}
	keys := map[string]string{}
	for name, k := range map[string]string{
		"GET":                 keyOf(req("GET", "/getUsers", ""), nil),
		"GET other query":     keyOf(req("GET", "/getUsers?x=1", ""), nil),
		"GET other path":      keyOf(req("GET", "/getEvents", ""), nil),
		"POST body a":         keyOf(req("POST", "/graphql", ""), []byte(`{"query":"{ a }"}`)),
		"POST body b":         keyOf(req("POST", "/graphql", ""), []byte(`{"query":"{ b }"}`)),
		"POST other accept":   keyOf(req("POST", "/graphql", "application/graphql-response+json"), []byte(`{"query":"{ a }"}`)),
		"POST long body":      keyOf(req("POST", "/graphql", ""), []byte(long)),
		"POST other long":     keyOf(req("POST", "/graphql", ""), []byte(long+"x")),
		"POST body of a hash": keyOf(req("POST", "/graphql", ""), func() []byte { s := sha256.Sum256([]byte(long)); return s[:] }()),
	} {
		if other, dup := keys[k]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		keys[k] = name
	}
	if a, b := keyOf(req("GET", "/getUsers", ""), nil), keyOf(req("GET", "/getUsers", ""), nil); a != b {
		t.Error("one request, two keys")
	}
}
