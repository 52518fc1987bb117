package schemadiff_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph/schemadiff"
)

// The schema and baseline committed at the repository root.
const (
	schemaPath   = "../../schema.graphqls"
	baselinePath = "../../schema.baseline.graphqls"
)

func loadFile(t *testing.T, path string) *ast.Schema {
	t.Helper()
	s, err := schemadiff.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The committed schema keeps the contract with the committed baseline and
// passes the lint: what scripts/check-schema.sh checks in CI.
func TestCommittedSchemaKeepsTheContract(t *testing.T) {
	report := schemadiff.Check(loadFile(t, baselinePath), loadFile(t, schemaPath), schemadiff.Options{})
	if report.Failed() {
		var out strings.Builder
		_ = report.Print(&out)
		t.Fatalf("the committed schema fails its own contract:\n%s", out.String())
	}
}

// The acceptance: removing Event.details from a copy of the
// committed schema fails the check, naming Event.details.
func TestRemovingEventDetailsFailsNamingIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schema.graphqls")
	if err := os.WriteFile(path, []byte(withoutEventDetails(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	report := schemadiff.Check(loadFile(t, baselinePath), loadFile(t, path), schemadiff.Options{})
	if !report.Failed() {
		t.Fatal("the check passes without Event.details")
	}
	want := schemadiff.Change{Severity: schemadiff.Breaking, Coordinate: "Event.details", Message: "field removed"}
	if !slices.Contains(report.Changes, want) {
		t.Fatalf("no %q among %v", want, report.Changes)
	}
}

// withoutEventDetails returns the committed schema without the field
// Event.details and its description (AddEventInput.details stays).
func withoutEventDetails(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	sdl := string(src)
	start := strings.Index(sdl, "type Event {")
	end := start + strings.Index(sdl[start:], "\n}")
	if start < 0 || end < start {
		t.Fatal("no type Event in schema.graphqls")
	}
	var kept []string
	for _, line := range strings.Split(sdl[start:end], "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "details:") {
			if n := len(kept); n > 0 && strings.HasPrefix(strings.TrimSpace(kept[n-1]), `"`) {
				kept = kept[:n-1] // its description
			}
			continue
		}
		kept = append(kept, line)
	}
	out := sdl[:start] + strings.Join(kept, "\n") + sdl[end:]
	if out == sdl {
		t.Fatal("Event.details not found in schema.graphqls")
	}
	return out
}
