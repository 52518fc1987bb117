package apq_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/apq"
	"github.com/eventms/gateway/graph/doccache"
	"github.com/eventms/gateway/graph/limits"
	"github.com/eventms/gateway/graph/transport"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// door is a gqlgen server over the real schema, built as graph.NewHandler
// builds one (the transport, the caches, APQ and the limits in its order),
// with its caches in reach.
type door struct {
	http.Handler
	persisted *apq.Store
	docs      *doccache.Parsed
}

// newDoor builds a door with the test configuration's GraphQL settings, mod
// applied to its caches; rdb (may be nil) shares the APQ documents under
// prefix.
func newDoor(t testing.TB, rdb redis.UniversalClient, prefix string, mod func(*config.DocumentCaches)) *door {
	t.Helper()
	env := servicetest.New(t, servicetest.Options{})
	g := env.Config.GraphQL
	c := g.Caches
	if mod != nil {
		mod(&c)
	}
	docs := doccache.NewParsed(doccache.Limits{MaxBytes: c.QueryBytes, MaxEntryBytes: c.QueryMaxDocumentBytes, MaxEntries: c.QueryEntries})
	persisted := apq.New(apq.Settings{
		MaxBytes: c.APQBytes, MaxEntries: c.APQEntries, MaxDocumentBytes: c.APQMaxDocumentBytes, RedisMaxBytes: c.APQRedisBytes,
	}, rdb, prefix, func(op string, err error) { t.Errorf("%s: %v", op, err) })
	srv := handler.New(graph.NewExecutableSchema(graph.NewConfig(env.Service)))
	srv.AddTransport(transport.HTTP{})
	srv.SetQueryCache(docs)
	srv.SetParserTokenLimit(g.MaxTokens)
	srv.Use(apq.Extension{Store: persisted})
	srv.Use(transport.InlineDefer{})
	srv.Use(&limits.Expansion{MaxFields: g.MaxFields, TokenLimit: g.MaxTokens, Cache: docs})
	srv.Use(limits.Shape{MaxDepth: g.MaxDepth, MaxAliases: g.MaxAliases})
	srv.Use(&limits.Complexity{Limit: g.MaxComplexity})
	return &door{Handler: srv, persisted: persisted, docs: docs}
}

type answer struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (a answer) code() string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

func hashOf(doc string) string {
	h := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(h[:])
}

// post sends query (empty: none) with an APQ extension of hash (empty: none).
func (d *door) post(t testing.TB, query, hash string) answer {
	t.Helper()
	body := map[string]any{}
	if query != "" {
		body["query"] = query
	}
	if hash != "" {
		body["extensions"] = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	var a answer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("%d %.200s: %v", w.Code, w.Body.String(), err)
	}
	return a
}

// register sends query with its hash, as a client registering it does.
func (d *door) register(t testing.TB, query string) answer { return d.post(t, query, hashOf(query)) }

func (d *door) persistedHas(query string) bool {
	_, ok := d.persisted.Get(context.Background(), hashOf(query))
	return ok
}
