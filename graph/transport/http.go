package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// HTTP is GraphQL over HTTP: queries by GET, everything by POST with a JSON
// body. It replaces gqlgen's GET and POST transports so that a request is
// read and decoded once, checked before anything runs (a request that is
// not a well-formed GraphQL request gets a coded error naming what is
// wrong, never an echo of the body), and error answers are written as the
// GraphQL-over-HTTP spec wants them in the first place instead of being
// buffered and rewritten. A document that needs a stream from a client
// that accepts one is answered in parts (Streams).
type HTTP struct {
	// Streams answers in parts; nil answers everything in one JSON answer.
	Streams *Streams
	// MaxBatch is the most operations a batch (a JSON array) may hold; 0
	// refuses batches.
	MaxBatch int
}

var _ graphql.Transport = HTTP{}

// Supports implements graphql.Transport: every request but a WebSocket
// upgrade and a CORS preflight, so that a wrong method is answered here,
// with its code, rather than by gqlgen's "transport not supported".
func (HTTP) Supports(r *http.Request) bool {
	return !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && r.Method != http.MethodOptions
}

// Do implements graphql.Transport.
func (t HTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	switch r.Method {
	case http.MethodGet:
		t.get(w, r, exec)
	case http.MethodPost:
		t.post(w, r, exec)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, r, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("method %s: /graphql takes GET (queries) and POST", r.Method))
	}
}

func (t HTTP) get(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	q := r.URL.Query()
	if field, reason := checkGET(q); reason != "" {
		writeError(w, r, http.StatusBadRequest, CodeBadRequest, field+": "+reason)
		return
	}
	raw := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	for name, into := range map[string]*map[string]any{"variables": &raw.Variables, "extensions": &raw.Extensions} {
		if v := q.Get(name); v != "" {
			if err := decodeObject([]byte(v), into); err != nil {
				writeError(w, r, http.StatusBadRequest, CodeBadRequest, name+": must be a JSON object (malformed JSON)")
				return
			}
		}
	}
	if id := q.Get("documentId"); id != "" {
		withDocumentID(raw, id)
	}
	raw.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.execute(w, r, exec, raw, true)
}

func (t HTTP) post(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mediaJSON {
		writeError(w, r, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type: must be application/json")
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, CodeBadRequest, "body: could not be read")
		return
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		t.batch(w, r, exec, trimmed)
		return
	}
	p, code, msg := checkBody(body)
	if code != "" {
		writeError(w, r, http.StatusBadRequest, code, msg)
		return
	}
	raw, msg := p.decode()
	if msg != "" {
		writeError(w, r, http.StatusBadRequest, CodeBadRequest, msg)
		return
	}
	raw.Headers = r.Header
	raw.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.execute(w, r, exec, raw, false)
}

// readBody returns the request body. The HTTP layer has read it whole and
// bounded it already; a body that offers its bytes is not copied again.
func readBody(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), nil
	}
	return io.ReadAll(r.Body)
}

// execute runs raw and writes the answer. A request that fails before
// execution (parse, validation, variables, a limit) gets no "data" entry
// and every error an extensions.code; its status is 400 for a client that
// accepts application/graphql-response+json and 200 for one that takes
// application/json, as the GraphQL-over-HTTP spec prefers.
//
// The document is parsed before the answer's form is chosen, so the choice
// follows what it is, not its text (a document sent by id has none): a
// subscription is a stream (Streams.subscribe; StreamsOnly has refused one
// from a client that accepts none), a query with @defer from a client that
// accepts parts is answered in parts (Streams.deferred), anything else in
// one JSON answer. Clients such as urql and GraphiQL list the stream media
// types on every request; a plain query still gets plain JSON.
func (t HTTP) execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, raw *graphql.RawParams, get bool) {
	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, raw)
	if errs != nil {
		w.Header().Set("Content-Type", responseType(r))
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			writeCreateErrors(w, r, exec, oc, errs)
			return
		}
		writeResponse(w, http.StatusOK, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	op := oc.Operation.Operation
	switch {
	case get && op != ast.Query:
		w.Header().Set("Content-Type", responseType(r))
		writeRequestErrors(w, http.StatusNotAcceptable, gqlerror.List{{
			Message:    "GET requests only allow query operations",
			Extensions: map[string]any{"code": CodeMethodNotAllowed},
		}}, nil)
		return
	case t.Streams != nil && op == ast.Subscription:
		t.Streams.subscribe(w, r, exec, oc)
		return
	case t.Streams != nil && op == ast.Query && strings.Contains(oc.RawQuery, "@defer"):
		if format, ok := partsFormat(r, false); ok {
			t.Streams.deferred(w, r, exec, oc, format)
			return
		}
	}
	w.Header().Set("Content-Type", responseType(r))
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, http.StatusOK, responses(ctx))
}

// statusOf is the status of a request error: 400 for a client that
// accepts application/graphql-response+json, 200 for one that takes
// application/json (the spec's preference).
func statusOf(r *http.Request, errs gqlerror.List) int {
	if responseType(r) == mediaGraphQLJSON && errcode.GetErrorKind(errs) == errcode.KindProtocol {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// writeResponse writes a GraphQL response as gqlgen's transports do.
func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		panic(fmt.Errorf("marshal a GraphQL response: %w", err))
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	_, _ = w.Write(b)
}

// writeRequestErrors writes the answer to a request that failed before
// execution: errors, each with a code, and no "data".
func writeRequestErrors(w http.ResponseWriter, status int, errs gqlerror.List, ext map[string]any) {
	fallback := statusCodes[status]
	if fallback == "" {
		fallback = CodeBadRequest
	}
	for _, e := range errs {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		if _, ok := e.Extensions["code"]; !ok {
			e.Extensions["code"] = fallback
		}
	}
	b, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{errs, ext})
	if err != nil {
		panic(fmt.Errorf("marshal GraphQL errors: %w", err))
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
