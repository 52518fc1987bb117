package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// The "done when": with TRUSTED_DOCUMENTS=enforce and an Apollo
// manifest listing Mine, Mine runs by documentId (sha256: and bare, POST
// and GET) and by APQ hash; an unlisted text and an unknown id are refused
// with their codes and 400, and never reach the upstream.
func TestTrustedDocumentsEnforced(t *testing.T) {
	const mine = `query Mine { user(id: "1") { userName } }`
	sum := sha256.Sum256([]byte(mine))
	hash := hex.EncodeToString(sum[:])
	manifest := filepath.Join(t.TempDir(), "persisted-query-manifest.json")
	if err := os.WriteFile(manifest, []byte(`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"`+hash+`","name":"Mine","type":"query","body":"query Mine { user(id: \"1\") { userName } }"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, eventsim.Config{}, func(c *config.Config) {
		c.TrustedDocuments = config.TrustedDocuments{Mode: "enforce", Files: []string{manifest}}
	})
	accept := map[string]string{"Accept": "application/graphql-response+json"}
	post := func(body string) (int, string) {
		resp, raw := servicetest.Do(t, http.MethodPost, g.url+"/graphql", "application/json", body, accept)
		return resp.StatusCode, raw
	}
	get := func(q url.Values) (int, string) {
		resp, raw := servicetest.Do(t, http.MethodGet, g.url+"/graphql?"+q.Encode(), "", "",
			map[string]string{"Accept": accept["Accept"], "Apollo-Require-Preflight": "true"})
		return resp.StatusCode, raw
	}
	for name, run := range map[string]func() (int, string){
		"documentId sha256:": func() (int, string) { return post(`{"documentId":"sha256:` + hash + `"}`) },
		"documentId bare":    func() (int, string) { return post(`{"documentId":"` + hash + `"}`) },
		"documentId GET":     func() (int, string) { return get(url.Values{"documentId": {"sha256:" + hash}}) },
		"APQ hash": func() (int, string) {
			return post(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}}`)
		},
		"listed text": func() (int, string) { return post(servicetest.GraphQLBody(mine)) },
	} {
		if status, body := run(); status != 200 || !strings.Contains(body, `"userName"`) || strings.Contains(body, "errors") {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	before := g.sim.Count(eventsim.RouteGetUsers) + g.sim.Count(eventsim.RouteGetUserByID)
	for body, code := range map[string]string{
		servicetest.GraphQLBody(`{ users { id email } }`):         "QUERY_NOT_IN_SAFELIST",
		`{"documentId":"sha256:` + strings.Repeat("0", 64) + `"}`: "PERSISTED_QUERY_NOT_IN_LIST",
	} {
		if status, raw := post(body); status != 400 || !strings.Contains(raw, code) || strings.Contains(raw, `"data"`) {
			t.Errorf("%s: %d %s; want 400 %s", body, status, raw, code)
		}
	}
	if after := g.sim.Count(eventsim.RouteGetUsers) + g.sim.Count(eventsim.RouteGetUserByID); after != before {
		t.Errorf("refused requests made %d upstream calls", after-before)
	}
	_, metrics := servicetest.Do(t, http.MethodGet, g.url+"/metrics", "", "", nil)
	for _, want := range []string{`gateway_graphql_trusted_documents_total{client="unknown",status="listed"} 5`, `gateway_graphql_trusted_documents_total{client="unknown",status="refused"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A document the reloaded list drops is refused at once, though its answer
// was kept: a reload purges the kept answers.
func TestAReloadedListPurgesKeptAnswers(t *testing.T) {
	const mine = `query Mine { user(id: "1") { userName } }`
	sum := sha256.Sum256([]byte(mine))
	hash := hex.EncodeToString(sum[:])
	manifest := filepath.Join(t.TempDir(), "persisted-documents.json")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(manifest, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"` + hash + `": "query Mine { user(id: \"1\") { userName } }"}`)
	g := newGateway(t, eventsim.Config{}, func(c *config.Config) {
		c.Cache.Enabled = true
		c.TrustedDocuments = config.TrustedDocuments{Mode: "enforce", Files: []string{manifest}}
	})
	byID := func() (*http.Response, string) {
		return servicetest.Do(t, http.MethodPost, g.url+"/graphql", "application/json", `{"documentId":"sha256:`+hash+`"}`,
			map[string]string{"Accept": "application/graphql-response+json"})
	}
	byID()
	testwait.Until(t, "Mine's answer kept", func() bool { resp, _ := byID(); return resp.Header.Get("X-Cache") == "hit" })
	const other = `query Other { users { id } }`
	otherSum := sha256.Sum256([]byte(other))
	write(`{"` + hex.EncodeToString(otherSum[:]) + `": "` + other + `"}`)
	testwait.Until(t, "the reloaded list to refuse Mine", func() bool {
		resp, body := byID()
		return resp.StatusCode == 400 && strings.Contains(body, "PERSISTED_QUERY_NOT_IN_LIST")
	})
}
