package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, sdl string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(sdl), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	baseline := write("baseline.graphqls", `"Reads." type Query { "A." a: Int "B." b: Int @deprecated }`)
	same := write("same.graphqls", `"Reads." type Query { "A." a: Int "B." b: Int @deprecated }`)
	withoutB := write("without-b.graphqls", `"Reads." type Query { "A." a: Int }`)
	undescribed := write("undescribed.graphqls", `"Reads." type Query { "A." a: Int "B." b: Int @deprecated c: Int }`)
	invalid := write("invalid.graphqls", `type Query { a: Nope }`)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a line the output must hold
		stderr string
	}{
		{"unchanged schema passes", []string{"-baseline", baseline, same}, 0, "schema contract: 0 breaking, 0 dangerous, 0 info, 0 lint: OK", ""},
		{"deprecated field removed fails", []string{"-baseline", baseline, withoutB}, 1, "BREAKING   Query.b: field removed; it was deprecated", ""},
		{"deprecated field removed with the flag passes", []string{"-baseline", baseline, "-allow-removing-deprecated", withoutB}, 0, "DANGEROUS  Query.b: deprecated field removed", ""},
		{"lint violation fails", []string{"-baseline", baseline, undescribed}, 1, "LINT       Query.c: no description", ""},
		{"invalid schema is a usage error", []string{"-baseline", baseline, invalid}, 2, "", "invalid.graphqls:1"},
		{"missing baseline is a usage error", []string{"-baseline", filepath.Join(dir, "none"), same}, 2, "", "schemacheck: baseline"},
		{"two schemas are a usage error", []string{"-baseline", baseline, same, same}, 2, "", "usage: schemacheck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := run(tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout does not hold %q:\n%s", tt.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr does not hold %q:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}
