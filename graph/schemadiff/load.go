package schemadiff

import (
	"fmt"
	"os"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Load parses and validates a schema the way gqlgen does (gqlparser's
// prelude first), so a schema the server could not be generated from is an
// error here too. name labels positions in the error.
func Load(name, sdl string) (*ast.Schema, error) {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: name, Input: sdl})
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	return schema, nil
}

// LoadFile reads and loads the schema at path.
func LoadFile(path string) (*ast.Schema, error) {
	sdl, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	return Load(path, string(sdl))
}
