package transport

import (
	"mime"
	"net/http"
	"strings"

	"github.com/eventms/gateway/internal/httpjson"
)

// simpleContentTypes are those a browser sends cross-site without a
// preflight: a request with one of them (or none) may be a forged form post.
var simpleContentTypes = map[string]bool{
	"":                                  true,
	"text/plain":                        true,
	"application/x-www-form-urlencoded": true,
	"multipart/form-data":               true,
}

func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	switch ct {
	case "":
		return ""
	case mediaJSON, "application/json; charset=utf-8", "application/json;charset=utf-8":
		return mediaJSON // what clients send, without a parse on every request
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "invalid"
	}
	return mt
}

// CSRFMessage is the error a blocked GraphQL request gets (Apollo Server's wording).
const CSRFMessage = "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). " +
	"Please either specify a 'content-type' header (with a type that is not one of " +
	"application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value " +
	"for one of the following headers: x-apollo-operation-name, apollo-require-preflight"

// CSRF blocks requests a browser could send cross-site without a
// preflight, as Apollo Server's csrfPrevention does: the request must carry
// a non-simple Content-Type, or an X-Apollo-Operation-Name or
// Apollo-Require-Preflight header. OPTIONS (the preflight itself) passes.
func CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if CSRFAllows(r) {
			next.ServeHTTP(w, r)
			return
		}
		httpjson.Write(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{
			"message": CSRFMessage, "extensions": map[string]string{"code": "BAD_REQUEST"},
		}}})
	})
}

// CSRFAllows reports whether CSRF lets r through: what a browser cannot
// send cross-site without a preflight. A WebSocket upgrade is checked by
// its Origin instead (the transport refuses origins outside the CORS
// allow-list).
func CSRFAllows(r *http.Request) bool {
	return r.Method == http.MethodOptions || !simpleContentTypes[mediaType(r)] ||
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		r.Header.Get("X-Apollo-Operation-Name") != "" || r.Header.Get("Apollo-Require-Preflight") != ""
}
