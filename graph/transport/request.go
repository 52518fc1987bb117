package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/eventms/gateway/internal/httpjson"
)

// params are the members of a GraphQL request body, kept raw so that each
// one's JSON type can be checked and named.
type params struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
	// DocumentID is GraphQL over HTTP's persisted document id, handed on
	// as extensions.documentId (graph/trusted resolves it).
	DocumentID json.RawMessage `json:"documentId"`
}

// checkBody returns the code and message refusing body: empty, a batch (a
// JSON array), malformed, not valid UTF-8, or with a member of the wrong
// JSON type. It returns "" and the body's members if body is a well-formed
// GraphQL request (which may still fail to parse as GraphQL). Messages
// name what is wrong and never repeat the body.
func checkBody(body []byte) (p params, code, msg string) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return p, CodeBadRequest, "body: must be a JSON object with a query, got an empty body"
	case trimmed[0] == '[':
		return p, CodeBadRequest, "body: must be a JSON object, got an array (a batch is one array of operations, not nested)"
	}
	if path, bad := httpjson.InvalidUTF8(trimmed); bad {
		return p, CodeBadRequest, fieldOrBody(path) + ": must be valid UTF-8"
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return p, CodeBadRequest, malformed(trimmed)
		}
		return p, CodeBadRequest, "body: must be a JSON object with a query"
	}
	if err := json.Unmarshal(trimmed, &p); err != nil {
		return p, CodeBadRequest, malformed(trimmed)
	}
	for _, m := range []struct {
		name  string
		raw   json.RawMessage
		want  byte
		label string
	}{
		{"query", p.Query, '"', "a string"},
		{"operationName", p.OperationName, '"', "a string or null"},
		{"variables", p.Variables, '{', "an object or null"},
		{"extensions", p.Extensions, '{', "an object or null"},
		{"documentId", p.DocumentID, '"', "a string or null"},
	} {
		if len(m.raw) == 0 || (m.name != "query" && string(m.raw) == "null") {
			continue
		}
		if m.raw[0] != m.want {
			return p, CodeBadRequest, fmt.Sprintf("%s: must be %s, got %s", m.name, m.label, jsonType(m.raw))
		}
	}
	return p, "", ""
}

// decode returns the request's parameters as gqlgen takes them, or a
// message naming the member that does not decode.
func (p params) decode() (*graphql.RawParams, string) {
	raw := &graphql.RawParams{}
	if err := json.Unmarshal(p.Query, &raw.Query); len(p.Query) > 0 && err != nil {
		return nil, "query: must be a string"
	}
	if len(p.OperationName) > 0 && string(p.OperationName) != "null" {
		if err := json.Unmarshal(p.OperationName, &raw.OperationName); err != nil {
			return nil, "operationName: must be a string or null"
		}
	}
	if err := decodeObject(p.Variables, &raw.Variables); err != nil {
		return nil, "variables: must be an object or null"
	}
	if err := decodeObject(p.Extensions, &raw.Extensions); err != nil {
		return nil, "extensions: must be an object or null"
	}
	if len(p.DocumentID) > 0 && string(p.DocumentID) != "null" {
		var id string
		if err := json.Unmarshal(p.DocumentID, &id); err != nil {
			return nil, "documentId: must be a string or null"
		}
		withDocumentID(raw, id)
	}
	return raw, ""
}

// withDocumentID hands a request's documentId on as extensions.documentId.
func withDocumentID(raw *graphql.RawParams, id string) {
	if raw.Extensions == nil {
		raw.Extensions = map[string]any{}
	}
	raw.Extensions["documentId"] = id
}

// decodeObject decodes a JSON object (or null, or nothing) into into, with
// numbers kept as json.Number as gqlgen's own transports keep them.
func decodeObject(b []byte, into *map[string]any) error {
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(into)
}

// checkGET names a query-string parameter that is not what GraphQL over
// HTTP wants: variables and extensions must be JSON objects, and nothing
// may be invalid UTF-8.
func checkGET(q url.Values) (field, reason string) {
	for name, vs := range q {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return name, "must be valid UTF-8"
			}
		}
	}
	for _, name := range []string{"variables", "extensions"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		raw := bytes.TrimSpace([]byte(v))
		if !json.Valid(raw) {
			return name, "must be a JSON object (malformed JSON)"
		}
		if raw[0] != '{' && string(raw) != "null" {
			return name, "must be a JSON object, got " + jsonType(raw)
		}
	}
	return "", ""
}

func malformed(doc []byte) string {
	var v any
	err := json.Unmarshal(doc, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("body: malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	return "body: malformed JSON"
}

func fieldOrBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// jsonType names the JSON type of a valid value, for messages.
func jsonType(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
