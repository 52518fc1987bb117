package trusted

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// apolloFormat is the "format" member of Apollo's persisted-query manifest.
const apolloFormat = "apollo-persisted-query-manifest"

// Document is one trusted operation document: a manifest entry, parsed and
// validated against the schema.
type Document struct {
	// ID is the id the manifest gives the document (Apollo's "id", the key
	// of GraphQL Code Generator's and Relay's maps).
	ID string
	// Hash is the lowercase hex SHA-256 of Text; the document is found by
	// it too, bare or as "sha256:<hex>".
	Hash string
	// Name is the manifest's operation name (Apollo), or the name of the
	// document's first operation.
	Name string
	// Text is the document exactly as the manifest holds it.
	Text string
	// Query is Text parsed and validated. It is shared by every request
	// that runs the document: read it, never change it.
	Query *ast.QueryDocument
	// Source names where the document came from: a file, or a manifest
	// published to the fleet.
	Source string
}

// Manifest is a set of trusted documents read from one or more manifests.
// Build it with ParseManifest or ReadFiles; the zero value is empty.
type Manifest struct {
	docs []*Document
	byID map[string]*Document // the manifest's ids only
}

// ManifestError refuses a manifest: Source names it; ID and Name the
// operation at fault, if one is.
type ManifestError struct {
	Source string
	ID     string
	Name   string
	Err    error
}

func (e *ManifestError) Error() string {
	switch {
	case e.ID == "":
		return fmt.Sprintf("trusted documents %s: %v", e.Source, e.Err)
	case e.Name == "":
		return fmt.Sprintf("trusted documents %s: operation %q: %v", e.Source, e.ID, e.Err)
	}
	return fmt.Sprintf("trusted documents %s: operation %q (%s): %v", e.Source, e.ID, e.Name, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

// ReadFiles reads and merges the manifests in paths (see ParseManifest).
func ReadFiles(schema *ast.Schema, paths ...string) (*Manifest, error) {
	all := &Manifest{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, &ManifestError{Source: p, Err: err}
		}
		m, err := ParseManifest(p, data, schema)
		if err != nil {
			return nil, err
		}
		if err := all.Merge(m); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// ParseManifest reads one manifest, named source in errors, in whichever of
// the formats clients produce it is:
//
//   - Apollo's persisted-query manifest, from generate-persisted-query-manifest:
//     {"format":"apollo-persisted-query-manifest","version":1,
//     "operations":[{"id":…,"name":…,"type":…,"body":…}]};
//   - GraphQL Code Generator's client-preset persisted-documents.json and
//     Relay's persisted queries, which share one shape: {"<id>": "<document>"}.
//
// Every document must parse, hold at least one operation and validate
// against schema; the first that does not refuses the whole manifest.
func ParseManifest(source string, data []byte, schema *ast.Schema) (*Manifest, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, &ManifestError{Source: source, Err: fmt.Errorf("not a JSON object: %w", err)}
	}
	entries, err := decodeEntries(data, top)
	if err != nil {
		return nil, &ManifestError{Source: source, Err: err}
	}
	m := &Manifest{}
	for _, e := range entries {
		d, err := check(source, e, schema)
		if err != nil {
			return nil, err
		}
		if err := m.add(d); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// entry is one manifest entry before it is checked.
type entry struct{ id, name, body string }

// decodeEntries detects the format and returns its entries in a stable
// order (Apollo's as listed; a map's by id).
func decodeEntries(data []byte, top map[string]json.RawMessage) ([]entry, error) {
	var format string
	_, hasOps := top["operations"]
	if raw, ok := top["format"]; ok && (json.Unmarshal(raw, &format) != nil || format == apolloFormat || hasOps) {
		return decodeApollo(data, format)
	}
	entries := make([]entry, 0, len(top))
	for id, raw := range top {
		var body string
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, fmt.Errorf("unknown manifest format: want Apollo's persisted-query manifest or a JSON object of id to document text, and %q is not a string", id)
		}
		entries = append(entries, entry{id: id, body: body})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].id < entries[j].id })
	return entries, nil
}

func decodeApollo(data []byte, format string) ([]entry, error) {
	if format != apolloFormat {
		return nil, fmt.Errorf("unknown manifest format %q: want %q", format, apolloFormat)
	}
	var m struct {
		Version    int `json:"version"`
		Operations []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Type string `json:"type"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("malformed Apollo manifest: %w", err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("Apollo manifest version %d: want 1", m.Version)
	}
	entries := make([]entry, 0, len(m.Operations))
	for i, op := range m.Operations {
		if op.ID == "" {
			return nil, fmt.Errorf("operation %d (%s) has no id", i, op.Name)
		}
		entries = append(entries, entry{id: op.ID, name: op.Name, body: op.Body})
	}
	return entries, nil
}

// check parses and validates e against schema.
func check(source string, e entry, schema *ast.Schema) (*Document, error) {
	fail := func(err error) error { return &ManifestError{Source: source, ID: e.id, Name: e.name, Err: err} }
	if e.body == "" {
		return nil, fail(errors.New("empty document"))
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: e.body})
	if err != nil {
		return nil, fail(fmt.Errorf("does not parse: %s", describe(gqlerror.List{asGQL(err)})))
	}
	if len(doc.Operations) == 0 {
		return nil, fail(errors.New("holds no operation (fragments alone cannot run)"))
	}
	if e.name == "" {
		e.name = doc.Operations[0].Name
	}
	if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
		return nil, fail(fmt.Errorf("does not validate against the schema: %s", describe(errs)))
	}
	sum := sha256.Sum256([]byte(e.body))
	return &Document{ID: e.id, Hash: hex.EncodeToString(sum[:]), Name: e.name, Text: e.body, Query: doc, Source: source}, nil
}

// asGQL is err as a GraphQL error (the parser's are).
func asGQL(err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return ge
	}
	return gqlerror.WrapIfUnwrapped(err)
}

// describe writes GraphQL errors on one line, each with its place in the
// document: "line 1, column 14: Field ...; ...".
func describe(errs gqlerror.List) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Message
		if len(e.Locations) > 0 {
			msg = fmt.Sprintf("line %d, column %d: %s", e.Locations[0].Line, e.Locations[0].Column, msg)
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// add adds d; an id already given to another text refuses it.
func (m *Manifest) add(d *Document) error {
	if m.byID == nil {
		m.byID = map[string]*Document{}
	}
	if old, ok := m.byID[d.ID]; ok {
		if old.Text == d.Text {
			return nil
		}
		return &ManifestError{Source: d.Source, ID: d.ID, Name: d.Name,
			Err: fmt.Errorf("the id names a different document in %s", old.Source)}
	}
	m.byID[d.ID] = d
	m.docs = append(m.docs, d)
	return nil
}

// Merge adds o's documents to m. An id that names different documents in
// the two refuses the merge (m may then hold part of o).
func (m *Manifest) Merge(o *Manifest) error {
	for _, d := range o.docs {
		if err := m.add(d); err != nil {
			return err
		}
	}
	return nil
}

// Len is the number of documents.
func (m *Manifest) Len() int { return len(m.docs) }

// Documents are the documents, in the order they were read.
func (m *Manifest) Documents() []Document {
	out := make([]Document, len(m.docs))
	for i, d := range m.docs {
		out[i] = *d
	}
	return out
}

// MarshalApollo writes m as one Apollo persisted-query manifest, keeping
// each document's id: the form Publish stores.
func (m *Manifest) MarshalApollo() ([]byte, error) {
	type operation struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
		Body string `json:"body"`
	}
	out := struct {
		Format     string      `json:"format"`
		Version    int         `json:"version"`
		Operations []operation `json:"operations"`
	}{Format: apolloFormat, Version: 1, Operations: make([]operation, 0, len(m.docs))}
	for _, d := range m.docs {
		out.Operations = append(out.Operations, operation{ID: d.ID, Name: d.Name,
			Type: string(d.Query.Operations[0].Operation), Body: d.Text})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return b.Bytes(), nil
}
