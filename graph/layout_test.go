package graph

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyTheDoorKnowsGraphQL pins the layout: GraphQL (gqlgen,
// gqlparser) lives under graph/; nothing under internal/ imports it or
// the door, so the REST door and the layers below stay free of it.
func TestOnlyTheDoorKnowsGraphQL(t *testing.T) {
	forbidden := []string{"github.com/99designs/gqlgen", "github.com/vektah/gqlparser", "github.com/eventms/gateway/graph"}
	files := 0
	err := filepath.WalkDir("../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if p == bad || strings.HasPrefix(p, bad+"/") {
					t.Errorf("%s imports %s: GraphQL belongs under graph/", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d files under internal/; the walk missed the tree", files)
	}
}
