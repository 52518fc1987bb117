package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTrustedDocuments(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "apollo.json"), filepath.Join(dir, "persisted-documents.json")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		name      string
		vars      map[string]string
		wantMode  string
		wantFiles []string
		wantErr   []string // every string the error must hold
	}{
		{"default", nil, "off", nil, nil},
		{"enforce with two files", map[string]string{"TRUSTED_DOCUMENTS": "enforce", "TRUSTED_DOCUMENTS_FILE": a + ", " + b}, "enforce", []string{a, b}, nil},
		{"log", map[string]string{"TRUSTED_DOCUMENTS": "LOG", "TRUSTED_DOCUMENTS_FILE": a}, "log", []string{a}, nil},
		{"off keeps its files", map[string]string{"TRUSTED_DOCUMENTS_FILE": a}, "off", []string{a}, nil},
		{"unknown mode", map[string]string{"TRUSTED_DOCUMENTS": "strict"}, "", nil, []string{`TRUSTED_DOCUMENTS="strict"`, "off, log, enforce"}},
		{"enforce without a file", map[string]string{"TRUSTED_DOCUMENTS": "enforce"}, "", nil, []string{"TRUSTED_DOCUMENTS_FILE", "when TRUSTED_DOCUMENTS=enforce"}},
		{"a missing file", map[string]string{"TRUSTED_DOCUMENTS": "log", "TRUSTED_DOCUMENTS_FILE": a + "," + missing}, "", nil, []string{"TRUSTED_DOCUMENTS_FILE", missing, "no such file"}},
		{"a directory", map[string]string{"TRUSTED_DOCUMENTS": "enforce", "TRUSTED_DOCUMENTS_FILE": dir}, "", nil, []string{"TRUSTED_DOCUMENTS_FILE", dir + " is a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.vars))
			if len(tt.wantErr) > 0 {
				for _, want := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("err = %v; want it to say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.TrustedDocuments; got.Mode != tt.wantMode || !slices.Equal(got.Files, tt.wantFiles) {
				t.Errorf("%+v; want mode %s, files %v", got, tt.wantMode, tt.wantFiles)
			}
		})
	}
}
