package gqlhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/eventms/gateway/internal/httpjson"
)

// CheckRequest refuses, before gqlgen sees them, requests that are not
// well-formed GraphQL requests: a method other than GET or POST (405), a
// POST body that is not JSON (415), empty, a batch (a JSON array), malformed,
// not valid UTF-8, or whose query, operationName, variables or extensions
// have the wrong JSON type (400). Each answer says what is wrong and carries
// extensions.code; none repeats the body. The body must already be read
// whole and bounded (middleware.Limits does both).
func CheckRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			if field, reason := checkGET(r); reason != "" {
				writeError(w, r, http.StatusBadRequest, CodeBadRequest, field+": "+reason)
				return
			}
		case http.MethodPost:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mediaJSON {
				writeError(w, r, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
					"Content-Type: must be application/json")
				return
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeError(w, r, http.StatusBadRequest, CodeBadRequest, "body: could not be read")
				return
			}
			query, code, msg := checkBody(body)
			if code != "" {
				writeError(w, r, http.StatusBadRequest, code, msg)
				return
			}
			streamOnlyWhenNeeded(r, query)
			r.Body = io.NopCloser(bytes.NewReader(body))
		case http.MethodOptions:
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				fmt.Sprintf("method %s: /graphql takes GET (queries) and POST", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// streamOnlyWhenNeeded keeps the incremental media types (multipart/mixed,
// text/event-stream) in Accept only for a document that can use them: one
// with @defer, or a subscription. Clients such as urql and GraphiQL list
// them on every request, and gqlgen's transports would otherwise stream a
// plain query as a one-part multipart answer without "hasNext", which
// clients cannot tell is complete. The test is textual and errs towards
// keeping: a field merely named "subscription" keeps them too.
func streamOnlyWhenNeeded(r *http.Request, query json.RawMessage) {
	accept := r.Header.Get("Accept")
	if !strings.Contains(accept, "multipart/mixed") && !strings.Contains(accept, "text/event-stream") {
		return
	}
	if bytes.Contains(query, []byte("@defer")) || bytes.Contains(query, []byte("subscription")) {
		return
	}
	var kept []string
	for part := range strings.SplitSeq(accept, ",") {
		p := strings.TrimSpace(part)
		if !strings.HasPrefix(p, "multipart/mixed") && !strings.HasPrefix(p, "text/event-stream") {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		kept = []string{mediaJSON}
	}
	r.Header.Set("Accept", strings.Join(kept, ", "))
}

// params are the members of a GraphQL request body, kept raw so that each
// one's JSON type can be checked and named.
type params struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// checkBody returns the code and message refusing body, or "" if it is a
// well-formed GraphQL request (which may still fail to parse as GraphQL),
// with the request's query text (raw JSON).
func checkBody(body []byte) (query json.RawMessage, code, msg string) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, CodeBadRequest, "body: must be a JSON object with a query, got an empty body"
	case trimmed[0] == '[':
		return nil, CodeBatchingNotSupported, "body: batched operations (a JSON array) are not supported; send one operation per request"
	}
	if path, bad := httpjson.InvalidUTF8(trimmed); bad {
		return nil, CodeBadRequest, fieldOrBody(path) + ": must be valid UTF-8"
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return nil, CodeBadRequest, malformed(trimmed)
		}
		return nil, CodeBadRequest, "body: must be a JSON object with a query"
	}
	var p params
	if err := json.Unmarshal(trimmed, &p); err != nil {
		return nil, CodeBadRequest, malformed(trimmed)
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
	} {
		if len(m.raw) == 0 || (m.name != "query" && string(m.raw) == "null") {
			continue
		}
		if m.raw[0] != m.want {
			return nil, CodeBadRequest, fmt.Sprintf("%s: must be %s, got %s", m.name, m.label, jsonType(m.raw))
		}
	}
	return p.Query, "", ""
}

// checkGET names a query-string parameter that is not what GraphQL over
// HTTP wants: variables and extensions must be JSON objects, and nothing
// may be invalid UTF-8.
func checkGET(r *http.Request) (field, reason string) {
	q := r.URL.Query()
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
