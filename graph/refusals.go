package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/eventms/gateway/graph/transport"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/respcache"
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

// Answers are the door's rules for the response cache: a kept answer is
// never a way around the CSRF rule (when csrf is on), and a stale one says
// so in its extensions as an answer built from stale entities does:
// {"cache": {"stale": true, "age": <seconds>}}.
func Answers(csrf bool) respcache.Door {
	d := respcache.Door{MarkStale: markStale}
	if csrf {
		d.Admit = transport.CSRFAllows
	}
	return d
}

// markStale adds the stale mark to a kept GraphQL answer's extensions. An
// answer without extensions (the usual: a kept answer was built from fresh
// data) gets them spliced in before its closing brace; one that may have
// some is decoded and encoded again.
func markStale(body []byte, age int) []byte {
	if n := len(body); n > 1 && body[n-1] == '}' && !bytes.Contains(body, []byte(`"extensions"`)) {
		out := make([]byte, 0, n+64)
		out = append(out, body[:n-1]...)
		out = append(out, `,"extensions":{"cache":{"stale":true,"age":`...)
		out = strconv.AppendInt(out, int64(age), 10)
		return append(out, "}}}"...)
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return body
	}
	ext := map[string]any{}
	if raw, ok := top["extensions"]; ok && json.Unmarshal(raw, &ext) != nil {
		return body
	}
	ext["cache"] = map[string]any{"stale": true, "age": age}
	top["extensions"], _ = json.Marshal(ext)
	out, err := json.Marshal(top)
	if err != nil {
		return body
	}
	return out
}
