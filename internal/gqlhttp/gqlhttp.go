// Package gqlhttp holds the GraphQL-over-HTTP rules the gateway adds around
// gqlgen's own transports: requests that are not well-formed GraphQL
// requests are refused before gqlgen decodes them, with a coded error that
// names what is wrong and never echoes the body; error answers are made to
// follow the GraphQL-over-HTTP spec; introspection, when off, is refused
// with its own code.
package gqlhttp

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes (extensions.code) of requests refused here or coded here.
const (
	CodeBadRequest            = "BAD_REQUEST"
	CodeBatchingNotSupported  = "BATCHING_NOT_SUPPORTED"
	CodeMethodNotAllowed      = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType  = "UNSUPPORTED_MEDIA_TYPE"
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
	CodeInternal              = "INTERNAL_SERVER_ERROR"
)

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
	w.Header().Set("Content-Type", responseType(r)+contentTypeSuffix)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{{Message: message, Extensions: map[string]any{"code": code}}}})
}
