package httpjson

import "testing"

func TestInvalidUTF8NamesTheField(t *testing.T) {
	tests := []struct {
		name, doc string
		wantPath  string
		wantFound bool
	}{
		{"valid", `{"name":"café"}`, "", false},
		{"top-level field", "{\"name\":\"caf\xe9\",\"userId\":\"1\"}", "name", true},
		{"nested field", "{\"variables\":{\"input\":{\"name\":\"\xff\"}}}", "variables.input.name", true},
		{"in an array", "{\"tags\":[\"a\",\"b\",\"\xc3\"]}", "tags[2]", true},
		{"in the query text", "{\"query\":\"{ user(id: \\\"\xfe\\\") { id } }\"}", "query", true},
		{"not JSON at all", "\xff\xfe", "", true},
		{"bare string", "\"\xff\"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, found := InvalidUTF8([]byte(tt.doc))
			if path != tt.wantPath || found != tt.wantFound {
				t.Errorf("InvalidUTF8(%q) = %q, %v; want %q, %v", tt.doc, path, found, tt.wantPath, tt.wantFound)
			}
		})
	}
}
