// Package transport is how GraphQL reaches the gateway: GraphQL over HTTP
// (HTTP: GET and POST, each request read and decoded once, refused with a
// coded error when it is not a well-formed GraphQL request, error answers as
// the spec wants them), the streams (Streams: WebSocket protocols, SSE and
// their limits, ended at shutdown), what each transport can deliver
// (InlineDefer, StreamsOnly) and the CSRF rules for browsers (CSRF).
package transport

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes (extensions.code) of requests refused here or coded here.
const (
	CodeBadRequest           = "BAD_REQUEST"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeInternal             = "INTERNAL_SERVER_ERROR"
)

// codeRateLimited is middleware.CodeRateLimited, which a refused budget
// carries (graph/limits.Budget): such a request error is answered 429.
const codeRateLimited = "RATE_LIMITED"

// Media types of GraphQL answers.
const (
	mediaJSON         = "application/json"
	mediaGraphQLJSON  = "application/graphql-response+json"
	contentTypeSuffix = "; charset=utf-8"
)

// responseType picks the media type of the answer as gqlgen's transports
// do: the first of application/json and application/graphql-response+json
// the client accepts; application/json when it says nothing or anything.
func responseType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLJSON:
			return mediaGraphQLJSON
		}
	}
	return mediaGraphQLJSON
}

// writeError answers a request refused before execution: no "data" entry,
// as the GraphQL spec asks of errors raised before execution begins.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	WriteError(w, r, status, message, map[string]any{"code": code})
}

// WriteError answers a request refused before it is read as GraphQL (by
// the HTTP layers in front of the door: authentication, rate limits) in
// GraphQL's form: one error with its extensions (code and any more), no
// "data", the media type the client accepts.
func WriteError(w http.ResponseWriter, r *http.Request, status int, message string, extensions map[string]any) {
	w.Header().Set("Content-Type", responseType(r)+contentTypeSuffix)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{{Message: message, Extensions: extensions}}})
}
