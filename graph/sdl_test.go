package graph_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/schemadiff"
)

// The published SDL is the schema the server runs: it parses, and it has
// no change against schema.graphqls (the schema diff finds none).
func TestSDLIsTheSchemaTheServerRuns(t *testing.T) {
	rec := httptest.NewRecorder()
	graph.SDL().ServeHTTP(rec, httptest.NewRequest("GET", "/graphql/schema.graphql", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/graphql") {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	published, err := gqlparser.LoadSchema(&ast.Source{Name: "published", Input: rec.Body.String()})
	if err != nil {
		t.Fatalf("the published SDL does not load: %v\n%s", err, rec.Body.String())
	}
	committed, err := schemadiff.LoadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range schemadiff.Diff(committed, published, schemadiff.Options{}) {
		if c.Severity != schemadiff.Info {
			t.Errorf("the published SDL differs from schema.graphqls: %s", c)
		}
	}
	if !strings.Contains(rec.Body.String(), "eventsConnection") || !strings.Contains(rec.Body.String(), "directive @ownerOrAdmin") {
		t.Error("the SDL lacks fields or directives of the schema")
	}
}
