package apq_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/redistest"
)

func TestOnlyDocumentsThatRunArePersisted(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	const maxDocument = 16 << 10
	limit := func(c *config.DocumentCaches) { c.APQMaxDocumentBytes = maxDocument }
	d := newDoor(t, rdb, prefix, limit)
	other := newDoor(t, rdb, prefix, limit) // another replica of the fleet
	deep := "{ users { events { id } } }"
	for range 10 {
		deep = strings.Replace(deep, "{ id }", "{ user { events { id } } }", 1)
	}
	// Refused by the expansion guard, a parameter mutator that runs after
	// APQ has registered the document: 10³ × 3 fields.
	bomb := "{ users { ...F3 } } fragment F0 on User { id userName email }"
	for i := 1; i <= 3; i++ {
		bomb += fmt.Sprintf(" fragment F%d on User {%s }", i, strings.Repeat(fmt.Sprintf(" ...F%d", i-1), 10))
	}
	tests := []struct {
		name     string
		query    string
		runs     bool
		wantCode string
	}{
		{"valid", `{ users { id userName } }`, true, ""},
		{"does not parse", `{ users { id `, false, "GRAPHQL_PARSE_FAILED"},
		{"does not validate", `{ users { id password } }`, false, "GRAPHQL_VALIDATION_FAILED"},
		{"no operation of that name", `fragment F on User { id }`, false, "GRAPHQL_VALIDATION_FAILED"},
		{"refused by the depth limit", deep, false, "QUERY_TOO_DEEP"},
		{"refused by the expansion guard", bomb, false, "QUERY_TOO_LARGE"},
		{"over the document limit", fmt.Sprintf(`{ users { id } } # %s`, strings.Repeat("x", maxDocument)), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := d.register(t, tt.query); a.code() != tt.wantCode {
				t.Fatalf("registration answered %q (%v), want %q", a.code(), a.Errors, tt.wantCode)
			}
			kept := tt.runs && len(tt.query) <= maxDocument
			if got := d.persistedHas(tt.query); got != kept {
				t.Errorf("persisted here: %v, want %v", got, kept)
			}
			n, err := rdb.Exists(context.Background(), prefix+"apq:"+hashOf(tt.query)).Result()
			if err != nil {
				t.Fatal(err)
			}
			if (n == 1) != kept {
				t.Errorf("in Redis: %v, want %v", n == 1, kept)
			}
			// The hash alone, on another replica: the document runs if it
			// was kept, else the client is asked for it.
			a := other.post(t, "", hashOf(tt.query))
			if kept && (a.code() != "" || len(a.Data) == 0) {
				t.Errorf("the hash alone on another replica: %q %v", a.code(), a.Errors)
			}
			if !kept && a.code() != "PERSISTED_QUERY_NOT_FOUND" {
				t.Errorf("the hash alone of a document not kept: %q, want PERSISTED_QUERY_NOT_FOUND", a.code())
			}
		})
	}
}
