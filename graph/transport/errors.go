package transport

import (
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeCreateErrors answers a request whose operation could not be
// created (parse, validation, a limit), as execute does.
func writeCreateErrors(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext, errs gqlerror.List) {
	w.Header().Set("Content-Type", responseType(r))
	status := statusOf(r, errs)
	if secs, limited := retryAfter(errs); limited {
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), oc), errs)
	writeRequestErrors(w, status, resp.Errors, resp.Extensions)
}

// retryAfter finds a refused budget among errs (RATE_LIMITED): its answer
// is 429 with Retry-After, whatever the client accepts.
func retryAfter(errs gqlerror.List) (int, bool) {
	for _, e := range errs {
		if e.Extensions["code"] == codeRateLimited {
			secs, _ := e.Extensions["retryAfter"].(int)
			return max(secs, 1), true
		}
	}
	return 0, false
}
