package graph

import (
	"fmt"
	"net/http"

	"github.com/eventms/gateway/graph/transport"
	"github.com/eventms/gateway/internal/middleware"
)

// Refusals answer, in GraphQL's form, the requests the HTTP layers in front
// of the door refuse: 401 UNAUTHENTICATED and 429 RATE_LIMITED (with
// extensions.retryAfter in seconds), no "data".
func Refusals() middleware.Refusals {
	return middleware.Refusals{
		Unauthenticated: func(w http.ResponseWriter, r *http.Request, message string) {
			transport.WriteError(w, r, http.StatusUnauthorized, message, map[string]any{"code": middleware.CodeUnauthenticated})
		},
		RateLimited: func(w http.ResponseWriter, r *http.Request, retryAfter int) {
			transport.WriteError(w, r, http.StatusTooManyRequests,
				fmt.Sprintf("too many requests from this caller; retry after %d s", retryAfter),
				map[string]any{"code": middleware.CodeRateLimited, "retryAfter": retryAfter})
		},
	}
}
