package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes of batches.
const (
	// CodeBatchingNotSupported refuses a batch while MAX_BATCH_SIZE is 0.
	CodeBatchingNotSupported = "BATCHING_NOT_SUPPORTED"
	// CodeBatchTooLarge refuses a batch of more than MAX_BATCH_SIZE operations.
	CodeBatchTooLarge = "BATCH_TOO_LARGE"
)

type batchKey struct{}

// CountsAsRequest reports whether the operation of ctx spends a request
// of its caller's budget of its own: an operation on a WebSocket, and
// every operation of a batch after the first (the HTTP layer spent one
// for the connection or the request).
func CountsAsRequest(ctx context.Context) bool {
	i, _ := ctx.Value(batchKey{}).(int)
	return i > 0 || OverWebSocket(ctx)
}

// batch answers a JSON array of operations (Apollo's BatchHttpLink and
// others send them): a JSON array of answers, in order, each with its own
// errors. The operations are parsed and checked first; then queries run
// concurrently on the request's loaders, so a batch costs no more upstream
// calls than one request asking for the same things, and a batch holding
// a mutation runs in order, one operation after the other. The complexity
// limit counts the whole batch; every operation after the first spends a
// request of the caller's budget (CountsAsRequest), and each spends its
// complexity. Operations are answered whole: @defer is executed inline and
// a subscription is refused, as over plain JSON.
func (t HTTP) batch(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, body []byte) {
	start := graphql.Now()
	var items []json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &items); err != nil {
		writeError(w, r, http.StatusBadRequest, CodeBadRequest, malformed(body))
		return
	}
	switch {
	case t.MaxBatch <= 0:
		writeError(w, r, http.StatusBadRequest, CodeBatchingNotSupported,
			"body: batched operations (a JSON array) are not supported here (MAX_BATCH_SIZE is 0); send one operation per request")
		return
	case len(items) == 0:
		writeError(w, r, http.StatusBadRequest, CodeBadRequest, "body: an empty batch (a JSON array without operations)")
		return
	case len(items) > t.MaxBatch:
		writeError(w, r, http.StatusBadRequest, CodeBatchTooLarge,
			fmt.Sprintf("body: a batch of %d operations; at most %d (MAX_BATCH_SIZE)", len(items), t.MaxBatch))
		return
	}
	// Answered whole: no part of a batch streams.
	headers := r.Header.Clone()
	headers.Set("Accept", mediaJSON)
	raws := make([]*graphql.RawParams, len(items))
	for i, item := range items {
		p, code, msg := checkBody(item)
		if code == "" {
			var raw *graphql.RawParams
			if raw, msg = p.decode(); msg != "" {
				code = CodeBadRequest
			} else {
				raws[i] = raw
			}
		}
		if code != "" {
			writeError(w, r, http.StatusBadRequest, code, fmt.Sprintf("[%d].%s", i, strings.TrimPrefix(msg, "body: ")))
			return
		}
		raws[i].Headers = headers
		raws[i].ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	}

	ctx := r.Context()
	answers := make([]any, len(raws))
	ocs := make([]*graphql.OperationContext, len(raws))
	ctxs := make([]context.Context, len(raws))
	cost, sequential := 0, false
	for i, raw := range raws {
		ctxs[i] = context.WithValue(ctx, batchKey{}, i)
		oc, errs := exec.CreateOperationContext(ctxs[i], raw)
		if errs != nil {
			resp := exec.DispatchError(graphql.WithOperationContext(ctxs[i], oc), errs)
			answers[i] = requestErrors{Errors: resp.Errors, Extensions: resp.Extensions} // no "data": refused before execution
			continue
		}
		ocs[i] = oc
		if s, ok := oc.Stats.GetExtension("ComplexityLimit").(*extension.ComplexityStats); ok {
			cost += s.Complexity
			if s.ComplexityLimit > 0 && cost > s.ComplexityLimit {
				t.refuseBatch(w, r, len(raws), fmt.Sprintf("the batch's operations are of complexity %d together; the limit is %d (MAX_QUERY_COMPLEXITY)", cost, s.ComplexityLimit))
				return
			}
		}
		sequential = sequential || oc.Operation.Operation == ast.Mutation
	}
	run := func(i int) {
		if ocs[i] == nil {
			return
		}
		responses, rctx := exec.DispatchOperation(ctxs[i], ocs[i])
		answers[i] = responses(rctx)
	}
	if sequential {
		for i := range ocs {
			run(i)
		}
	} else {
		var wg sync.WaitGroup
		for i := range ocs {
			wg.Go(func() { run(i) })
		}
		wg.Wait()
	}
	w.Header().Set("Content-Type", responseType(r))
	b, err := json.Marshal(answers)
	if err != nil {
		panic(fmt.Errorf("marshal a batch's answers: %w", err))
	}
	_, _ = w.Write(b)
}

// requestErrors is the answer to an operation refused before execution.
type requestErrors struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// refuseBatch answers every operation of a batch with the same error.
func (t HTTP) refuseBatch(w http.ResponseWriter, r *http.Request, n int, message string) {
	answers := make([]requestErrors, n)
	for i := range answers {
		answers[i].Errors = gqlerror.List{{Message: message, Extensions: map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED"}}}
	}
	w.Header().Set("Content-Type", responseType(r))
	b, _ := json.Marshal(answers)
	_, _ = w.Write(b)
}
