package graph

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A stale mark is added to a kept answer whatever it holds: spliced in
// when it has no extensions, merged into the extensions it has.
func TestMarkStale(t *testing.T) {
	tests := map[string]struct{ body, want string }{
		"no extensions":        {`{"data":{"user":{"userName":"john_doe"}}}`, `{"data":{"user":{"userName":"john_doe"}},"extensions":{"cache":{"stale":true,"age":7}}}`},
		"extensions":           {`{"data":{"a":1},"extensions":{"complexity":3}}`, `{"data":{"a":1},"extensions":{"complexity":3,"cache":{"stale":true,"age":7}}}`},
		"the word in the data": {`{"data":{"name":"\"extensions\""}}`, `{"data":{"name":"\"extensions\""},"extensions":{"cache":{"stale":true,"age":7}}}`},
		"not JSON":             {`not json`, `not json`},
	}
	for name, tt := range tests {
		got := markStale([]byte(tt.body), 7)
		var g, w any
		if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(tt.want), &w) != nil {
			if string(got) != tt.want {
				t.Errorf("%s: %s; want %s", name, got, tt.want)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s; want %s", name, got, tt.want)
		}
	}
}
