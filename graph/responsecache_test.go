package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// cachedAnswers is the door with the entity cache and the response cache
// on, on a settable clock.
func cachedAnswers(t *testing.T, opts ...graphtest.Option) (*graphtest.Gateway, *servicetest.Clock) {
	t.Helper()
	return cachedAnswersOver(t, eventsim.Config{}, opts...)
}

func cachedAnswersOver(t *testing.T, sim eventsim.Config, opts ...graphtest.Option) (*graphtest.Gateway, *servicetest.Clock) {
	t.Helper()
	clock := servicetest.NewClock()
	g := graphtest.New(t, sim, func(c *config.Config) {
		c.Cache.Enabled = true
		c.Cache.Responses.Enabled = true
	}, append(opts, graphtest.WithClock(clock.Now))...)
	return g, clock
}

// post sends query (POST) with headers and returns the answer and X-Cache.
func post(t *testing.T, g *graphtest.Gateway, query string, headers map[string]string) (string, http.Header) {
	t.Helper()
	resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(query), headers)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	return body, resp.Header
}

func upstreamCalls(g *graphtest.Gateway) int {
	s := 0
	for _, r := range []string{eventsim.RouteGetUsers, eventsim.RouteGetUserByID, eventsim.RouteGetEvents, eventsim.RouteGetEventByID} {
		s += g.Sim.Count(r)
	}
	return s
}

const userWithEvents = `{ user(id: "1") { userName events { id name } } }`

// A repeated read is answered whole from the cache: the same bytes, no
// upstream call, no execution; a write purges what it changes before it
// answers, so the next read holds the new event.
func TestRepeatedReadsAreAnsweredWholeAndWritesPurgeThem(t *testing.T) {
	g, _ := cachedAnswers(t)
	first, h := post(t, g, userWithEvents, nil)
	if h.Get("X-Cache") != "" {
		t.Errorf("first read X-Cache %q; want none (a miss builds the answer)", h.Get("X-Cache"))
	}
	calls := upstreamCalls(g)
	for range 3 {
		again, h := post(t, g, userWithEvents, nil)
		if again != first || h.Get("X-Cache") != "hit" {
			t.Fatalf("repeat: X-Cache %q, %s; want the same bytes from the cache", h.Get("X-Cache"), again)
		}
	}
	if n := upstreamCalls(g); n != calls {
		t.Errorf("%d upstream calls for repeated reads; want none", n-calls)
	}
	added := g.AddEvent(t, map[string]any{"name": "Fresh news", "userId": "1"}, nil)
	after, h := post(t, g, userWithEvents, nil)
	if !strings.Contains(after, added.Event.ID) || h.Get("X-Cache") == "hit" {
		t.Errorf("after the write: X-Cache %q, %s; want the new event", h.Get("X-Cache"), after)
	}
	// Another user's answers stay.
	post(t, g, `{ user(id: "2") { events { id } } }`, nil)
	g.AddEvent(t, map[string]any{"name": "x", "userId": "3"}, nil)
	if _, h := post(t, g, `{ user(id: "2") { events { id } } }`, nil); h.Get("X-Cache") != "hit" {
		t.Errorf("user 2's answer after a write to user 3: X-Cache %q; want a hit", h.Get("X-Cache"))
	}
}

// What is never kept: answers with errors, mutations, answers in parts,
// answers the entity cache did not build.
func TestWhatIsNeverKept(t *testing.T) {
	g, _ := cachedAnswers(t)
	failing, _ := cachedAnswersOver(t, eventsim.Config{NetworkErrorRate: 1}) // the lists always fail
	post(t, failing, `{ user(id: "1") { userName } users { id } }`, nil)
	if body, h := post(t, failing, `{ user(id: "1") { userName } users { id } }`, nil); h.Get("X-Cache") != "" || !strings.Contains(body, "UPSTREAM_UNAVAILABLE") {
		t.Errorf("an answer with errors: X-Cache %q %s; want it never kept", h.Get("X-Cache"), body)
	}
	for name, q := range map[string]string{
		"mutation": `mutation { addEvent(input: {name: "again", userId: "2"}) { __typename } }`,
		"typename": `{ __typename }`,
	} {
		post(t, g, q, nil)
		if _, h := post(t, g, q, nil); h.Get("X-Cache") != "" {
			t.Errorf("%s: X-Cache %q on the second answer; want it never kept", name, h.Get("X-Cache"))
		}
	}
	stored := len(g.Sim.UserEvents("2"))
	if stored < 3 {
		t.Errorf("user 2 has %d events; both mutations must have run", stored)
	}
	for range 2 {
		resp, _ := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", servicetest.GraphQLBody(`{ user(id: "1") { id ... @defer { events { id } } } }`),
			map[string]string{"Accept": "multipart/mixed;deferSpec=20220824, application/json"})
		if resp.Header.Get("X-Cache") != "" {
			t.Errorf("a deferred answer: X-Cache %q; want never kept", resp.Header.Get("X-Cache"))
		}
	}
}

// A GET answer carries its ETag from the cache: If-None-Match is answered
// 304 from the key alone.
func TestRevalidationFromTheKeyAlone(t *testing.T) {
	g, _ := cachedAnswers(t)
	url := g.URL + "/graphql?query=" + url.QueryEscape(userWithEvents)
	pre := map[string]string{"Apollo-Require-Preflight": "true"}
	resp, _ := servicetest.Do(t, "GET", url, "", "", pre)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	calls := upstreamCalls(g)
	resp, body := servicetest.Do(t, "GET", url, "", "", map[string]string{"Apollo-Require-Preflight": "true", "If-None-Match": etag})
	if resp.StatusCode != 304 || body != "" || resp.Header.Get("X-Cache") != "hit" || resp.Header.Get("ETag") != etag {
		t.Errorf("%d X-Cache %q ETag %q %q; want 304 from the cache with the same ETag", resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("ETag"), body)
	}
	if upstreamCalls(g) != calls {
		t.Error("the revalidation reached the upstream")
	}
	// The CSRF rule holds for kept answers too: a GET without a preflight
	// header is refused, not served from the cache.
	if resp, _ := servicetest.Do(t, "GET", url, "", "", nil); resp.StatusCode != 400 {
		t.Errorf("a GET without a preflight header: %d; want the CSRF refusal", resp.StatusCode)
	}
}

// Past its fresh life an answer is served stale, marked as the entity
// cache marks it, while it is refreshed behind; read in the last part of
// its fresh life, it is refreshed ahead.
func TestStaleWhileRevalidateAndRefreshAhead(t *testing.T) {
	g, clock := cachedAnswers(t)
	post(t, g, userWithEvents, nil)
	calls := upstreamCalls(g)
	clock.Advance(4500 * time.Millisecond) // fresh for 5 s: the last fifth
	if _, h := post(t, g, userWithEvents, nil); h.Get("X-Cache") != "hit" {
		t.Fatalf("X-Cache %q; want a hit", h.Get("X-Cache"))
	}
	// Waiting for the upstream call alone is not enough: a refresh that
	// keeps its answer after the clock moves on keeps it as fresh.
	testwait.Until(t, "the refresh ahead to be kept", func() bool {
		return upstreamCalls(g) > calls && g.Responses.Refreshing() == 0
	})
	clock.Advance(6 * time.Second)
	body, h := post(t, g, userWithEvents, nil)
	var got struct {
		Extensions struct{ Cache struct{ Stale bool } }
	}
	servicetest.MustUnmarshal(t, []byte(body), &got)
	if h.Get("X-Cache") != "stale" || h.Get("Warning") == "" || h.Get("Age") == "" || !got.Extensions.Cache.Stale {
		t.Errorf("X-Cache %q Warning %q Age %q %s; want a stale answer marked so", h.Get("X-Cache"), h.Get("Warning"), h.Get("Age"), body)
	}
}

// An answer holding a private field is kept per caller, never shared: one
// caller's e-mail is never served to another, and an anonymous caller's
// private answer is not kept.
func TestPrivateAnswersAreNeverShared(t *testing.T) {
	g, _ := cachedAnswers(t, graphtest.WithCallers(eventsvc.Authorization{Enabled: true, AdminScope: "events:admin"}, asCaller()))
	const q = `{ user(id: "1") { userName email } }`
	as := func(user string) map[string]string { return map[string]string{"X-Test-User": user} }
	owner, _ := post(t, g, q, as("1"))
	if !strings.Contains(owner, "john@example.com") {
		t.Fatalf("the owner: %s", owner)
	}
	if again, h := post(t, g, q, as("1")); h.Get("X-Cache") != "hit" || again != owner {
		t.Errorf("the owner again: X-Cache %q; want its own kept answer", h.Get("X-Cache"))
	}
	other, h := post(t, g, q, as("3"))
	if strings.Contains(other, "john@example.com") || h.Get("X-Cache") == "hit" {
		t.Errorf("another caller: X-Cache %q %s; must never see the owner's answer", h.Get("X-Cache"), other)
	}
	for range 2 {
		if body, h := post(t, g, q, nil); strings.Contains(body, "john@example.com") || h.Get("X-Cache") != "" {
			t.Errorf("anonymous: X-Cache %q %s; want neither the address nor a kept answer", h.Get("X-Cache"), body)
		}
	}
	// Public answers are shared across callers.
	post(t, g, `{ user(id: "1") { userName } }`, as("1"))
	if _, h := post(t, g, `{ user(id: "1") { userName } }`, as("3")); h.Get("X-Cache") != "hit" {
		t.Errorf("a public answer for another caller: X-Cache %q; want shared", h.Get("X-Cache"))
	}
}

// A read that started before a write never stores what it built: the
// read after the write holds the new event, and so do later ones.
func TestAReadFromBeforeAWriteIsNotKept(t *testing.T) {
	g, _ := cachedAnswers(t)
	hold := g.Sim.HoldNext(eventsim.RouteGetUserByID)
	defer hold.Release()
	done := make(chan string, 1)
	go func() {
		res, _ := g.TryQuery(userWithEvents, nil)
		done <- string(res.Data)
	}()
	testwait.Recv(t, hold.Arrived(), "the read before the write to reach the upstream")
	added := g.AddEvent(t, map[string]any{"name": "During", "userId": "1"}, nil)
	hold.Release()
	testwait.Recv(t, done, "the read from before the write")
	for range 2 {
		if after, _ := post(t, g, userWithEvents, nil); !strings.Contains(after, added.Event.ID) {
			t.Fatalf("after the write: %s; want %s", after, added.Event.ID)
		}
	}
}

// Queries by document id, APQ hash and as text are kept alike; a batch is
// not (it is a POST of an array whose operations are answered together).
func TestKeptAnswersOfPersistedQueries(t *testing.T) {
	g, _ := cachedAnswers(t)
	body, _ := json.Marshal(map[string]any{"query": userWithEvents, "extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(userWithEvents)}}})
	servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", string(body), nil)
	hashOnly, _ := json.Marshal(map[string]any{"extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(userWithEvents)}}})
	servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", string(hashOnly), nil)
	resp, answer := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", string(hashOnly), nil)
	if resp.Header.Get("X-Cache") != "hit" || !strings.Contains(answer, "event-3") {
		t.Errorf("by APQ hash: X-Cache %q %s; want a kept answer", resp.Header.Get("X-Cache"), answer)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
