package trusted_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/trusted"
)

// The operations of the tests: Mine is the example.
const (
	mine      = `query Mine { user(id: "1") { userName } }`
	allEvents = "query AllEvents {\n  events { ...EventFields }\n}\nfragment EventFields on Event { id name }"
	eventByID = `query EventByID($id: ID!) { event(id: $id) { id name details } }`
)

func schema() *ast.Schema { return graph.NewExecutableSchema(graph.NewConfig(nil)).Schema() }

func sha(text string) string {
	s := sha256.Sum256([]byte(text))
	return hex.EncodeToString(s[:])
}

// apolloManifest is an Apollo persisted-query manifest of ops, by id.
func apolloManifest(ops ...[2]string) string {
	type op struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
		Body string `json:"body"`
	}
	m := struct {
		Format     string `json:"format"`
		Version    int    `json:"version"`
		Operations []op   `json:"operations"`
	}{Format: "apollo-persisted-query-manifest", Version: 1}
	for _, o := range ops {
		name := strings.Fields(strings.SplitN(o[1], "(", 2)[0])[1]
		m.Operations = append(m.Operations, op{ID: o[0], Name: name, Type: "query", Body: o[1]})
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// keyValue is GraphQL Code Generator's and Relay's shape: id → text.
func keyValue(pairs ...[2]string) string {
	m := map[string]string{}
	for _, p := range pairs {
		m[p[0]] = p[1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestManifestFormats(t *testing.T) {
	relayID := "5f4dcc3b5aa765d61d8327deb882cf99" // Relay's ids are its own (md5 by default)
	tests := []struct {
		name   string
		data   string
		id     string // the manifest's id of mine
		opName string
	}{
		{"Apollo", apolloManifest([2]string{sha(mine), mine}, [2]string{sha(allEvents), allEvents}), sha(mine), "Mine"},
		{"Apollo with its own ids", apolloManifest([2]string{"mine-v1", mine}, [2]string{"all-events-v1", allEvents}), "mine-v1", "Mine"},
		{"GraphQL Code Generator (sha256)", keyValue([2]string{sha(mine), mine}, [2]string{sha(allEvents), allEvents}), sha(mine), "Mine"},
		{"GraphQL Code Generator (sha1, its default)", keyValue([2]string{"b6a9c8aa5b7e4d1b4b2c1e7c6f9d8a2e3c4b5a6f", mine}, [2]string{"x", allEvents}), "b6a9c8aa5b7e4d1b4b2c1e7c6f9d8a2e3c4b5a6f", "Mine"},
		{"Relay", keyValue([2]string{relayID, mine}, [2]string{"2", allEvents}), relayID, "Mine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := trusted.ParseManifest("m.json", []byte(tt.data), schema())
			if err != nil {
				t.Fatal(err)
			}
			if m.Len() != 2 {
				t.Fatalf("%d documents, want 2", m.Len())
			}
			store := openFiles(t, writeFile(t, t.TempDir(), "m.json", tt.data))
			for _, id := range []string{tt.id, sha(mine), "sha256:" + sha(mine), "sha256:" + strings.ToUpper(sha(mine))} {
				d, ok := store.Lookup(id)
				if !ok || d.Text != mine || d.ID != tt.id || d.Name != tt.opName || d.Hash != sha(mine) || d.Query == nil {
					t.Errorf("Lookup(%q) = %+v, %v; want Mine under id %q", id, d, ok, tt.id)
				}
			}
			if d, ok := store.ByText(mine); !ok || d.ID != tt.id {
				t.Errorf("ByText(mine) = %+v, %v", d, ok)
			}
			if _, ok := store.ByText(mine + " "); ok {
				t.Error("a text one byte off the listed one was found: matching must be byte-exact")
			}
			if _, ok := store.Lookup("sha256:" + sha(eventByID)); ok {
				t.Error("an unlisted hash was found")
			}
		})
	}
}

func TestManifestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		id     string // the operation ManifestError names, if one
		opName string
		want   string
	}{
		{"not JSON", `{"a": `, "", "", "not a JSON object"},
		{"a JSON array", `[]`, "", "", "not a JSON object"},
		{"unknown format", `{"format": "other", "operations": []}`, "", "", `unknown manifest format "other"`},
		{"Apollo version 2", `{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}`, "", "", "version 2"},
		{"Apollo operation without id", `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"name": "Mine", "body": "{ users { id } }"}]}`, "", "", "has no id"},
		{"a value that is not text", `{"a": 1}`, "", "", `"a" is not a string`},
		{"does not parse", keyValue([2]string{"p1", "query Broken { users { id }"}), "p1", "", "does not parse"},
		{"unknown field", apolloManifest([2]string{"v1", `query Ages { users { age } }`}), "v1", "Ages", `Cannot query field "age" on type "User"`},
		{"missing argument", keyValue([2]string{"v2", `query NoID { user { id } }`}), "v2", "NoID", `argument "id" of type "ID!" is required`},
		{"fragments only", keyValue([2]string{"f", `fragment F on User { id }`}), "f", "", "holds no operation"},
		{"empty document", keyValue([2]string{"e", ""}), "e", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := keyValue([2]string{sha(mine), mine})
			_, err := trusted.ParseManifest("team.json", []byte(tt.data), schema())
			var me *trusted.ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *ManifestError", err)
			}
			if me.Source != "team.json" || me.ID != tt.id || me.Name != tt.opName || !strings.Contains(err.Error(), tt.want) ||
				!strings.Contains(err.Error(), "team.json") {
				t.Errorf("err = %q (%+v); want it to name team.json, operation %q (%q) and say %q", err, me, tt.id, tt.opName, tt.want)
			}
			// A bad manifest refuses the files it is read with, the good one too.
			dir := t.TempDir()
			if _, err := trusted.ReadFiles(schema(), writeFile(t, dir, "good.json", good), writeFile(t, dir, "team.json", tt.data)); err == nil {
				t.Error("ReadFiles took a bad manifest")
			}
		})
	}
}

func TestManifestsMerge(t *testing.T) {
	dir := t.TempDir()
	apollo := writeFile(t, dir, "apollo.json", apolloManifest([2]string{sha(mine), mine}))
	codegen := writeFile(t, dir, "persisted-documents.json", keyValue([2]string{sha(allEvents), allEvents}, [2]string{sha(mine), mine}))
	relay := writeFile(t, dir, "relay.json", keyValue([2]string{"relay-1", eventByID}))
	m, err := trusted.ReadFiles(schema(), apollo, codegen, relay)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 { // Mine is in two files under one id: once
		t.Errorf("%d documents, want 3", m.Len())
	}
	store := openFiles(t, apollo, codegen, relay)
	for id, want := range map[string]string{sha(mine): mine, sha(allEvents): allEvents, "relay-1": eventByID, "sha256:" + sha(eventByID): eventByID} {
		if d, ok := store.Lookup(id); !ok || d.Text != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", id, d.Text, ok, want)
		}
	}

	// One id naming two different documents in two files refuses both.
	clash := writeFile(t, dir, "clash.json", keyValue([2]string{"relay-1", mine}))
	_, err = trusted.ReadFiles(schema(), relay, clash)
	if err == nil || !strings.Contains(err.Error(), "clash.json") || !strings.Contains(err.Error(), "relay.json") || !strings.Contains(err.Error(), `"relay-1"`) {
		t.Errorf("clash: %v; want an error naming both files and the id", err)
	}
}

func TestMarshalApolloRoundTrips(t *testing.T) {
	m, err := trusted.ParseManifest("relay.json", []byte(keyValue([2]string{"relay-1", eventByID}, [2]string{"relay-2", allEvents})), schema())
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalApollo()
	if err != nil {
		t.Fatal(err)
	}
	back, err := trusted.ParseManifest("apollo.json", b, schema())
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	got := back.Documents()
	if len(got) != 2 || got[0].ID != "relay-1" || got[0].Text != eventByID || got[0].Name != "EventByID" || got[1].Name != "AllEvents" {
		t.Errorf("round trip: %+v", got)
	}
	if !strings.Contains(string(b), `"type": "query"`) {
		t.Errorf("manifest without operation types: %s", b)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]trusted.Mode{"": trusted.Off, "off": trusted.Off, "LOG": trusted.Log, " enforce ": trusted.Enforce} {
		if got, err := trusted.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := trusted.ParseMode("strict"); err == nil || !strings.Contains(err.Error(), "off, log or enforce") {
		t.Errorf("ParseMode(strict): %v", err)
	}
	if trusted.Enforce.String() != "enforce" {
		t.Error(trusted.Enforce.String())
	}
}
