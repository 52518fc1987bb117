package transport

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// statusCodes codes an error gqlgen's transports wrote without one, by the
// answer's status: every error the gateway produces carries extensions.code.
var statusCodes = map[int]string{
	http.StatusBadRequest:           CodeBadRequest,
	http.StatusMethodNotAllowed:     CodeMethodNotAllowed,
	http.StatusNotAcceptable:        CodeMethodNotAllowed, // a mutation over GET
	http.StatusUnsupportedMediaType: CodeUnsupportedMediaType,
	http.StatusUnprocessableEntity:  CodeBadRequest,
	http.StatusInternalServerError:  CodeInternal,
}

// normalized wraps one of gqlgen's stream transports (MultipartMixed, SSE),
// whose error answers do not follow the GraphQL-over-HTTP spec: a request
// that failed before execution (a non-2xx answer) gets no "data" entry and
// every error an extensions.code; with application/json, gqlgen's 422 for
// parse, validation and variable errors becomes 200, as the spec prefers
// (with application/graphql-response+json it stays 400). Streams pass
// through untouched: only error statuses are held.
func normalized(t graphql.Transport) graphql.Transport { return normalizer{t} }

type normalizer struct{ graphql.Transport }

func (n normalizer) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	nw := &errorHolder{ResponseWriter: w}
	n.Transport.Do(nw, r, exec)
	nw.finish()
}

type errorHolder struct {
	http.ResponseWriter
	status int
	buf    *bytes.Buffer // non-nil while holding an error answer
}

func (n *errorHolder) WriteHeader(status int) {
	if n.status != 0 {
		return
	}
	n.status = status
	if status >= 400 {
		n.buf = &bytes.Buffer{}
		return
	}
	n.ResponseWriter.WriteHeader(status)
}

func (n *errorHolder) Write(b []byte) (int, error) {
	if n.status == 0 {
		n.WriteHeader(http.StatusOK)
	}
	if n.buf != nil {
		return n.buf.Write(b)
	}
	return n.ResponseWriter.Write(b)
}

// Flush passes through for streaming transports (never reached while an
// error answer is held).
func (n *errorHolder) Flush() {
	if n.buf == nil {
		if f, ok := n.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (n *errorHolder) Unwrap() http.ResponseWriter { return n.ResponseWriter }

func (n *errorHolder) finish() {
	if n.buf == nil {
		return
	}
	status, body := rewrite(n.status, n.Header().Get("Content-Type"), n.buf.Bytes())
	n.Header().Set("Content-Length", strconv.Itoa(len(body)))
	n.ResponseWriter.WriteHeader(status)
	_, _ = n.ResponseWriter.Write(body)
}

// rewrite returns the status and body an error answer should have. A body
// that is not a GraphQL error response is left as it is.
func rewrite(status int, contentType string, body []byte) (int, []byte) {
	var resp map[string]json.RawMessage
	if json.Unmarshal(body, &resp) != nil || resp["errors"] == nil {
		return status, body
	}
	var errs []map[string]any
	if json.Unmarshal(resp["errors"], &errs) != nil {
		return status, body
	}
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		if _, ok := ext["code"]; !ok {
			code := statusCodes[status]
			if code == "" {
				code = CodeBadRequest
			}
			ext["code"] = code
		}
	}
	delete(resp, "data")
	resp["errors"], _ = json.Marshal(errs)
	out, err := json.Marshal(resp)
	if err != nil {
		return status, body
	}
	if status == http.StatusUnprocessableEntity && !strings.HasPrefix(contentType, mediaGraphQLJSON) {
		status = http.StatusOK
	}
	return status, append(out, '\n')
}
