package respcache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/eventms/gateway/internal/httpjson"
)

// Tag is an answer's tag as operators name it: "User:3", "Event:event-4",
// "users", "events" (the entity cache's keys, "user:3", are accepted too).
// It returns the entity cache's key, or "" for a name that is no tag.
func Tag(name string) string {
	kind, id, found := strings.Cut(name, ":")
	switch k := strings.ToLower(kind); {
	case !found && (k == "users" || k == "events"):
		return k
	case found && id != "" && (k == "user" || k == "event"):
		return k + ":" + id
	}
	return ""
}

// maxPurgeBody bounds a purge request: a thousand tags fit.
const maxPurgeBody = 64 << 10

// purgeRequest is the body of POST /admin/cache/purge.
type purgeRequest struct {
	Tags []string `json:"tags"`
	All  bool     `json:"all"`
}

// PurgeHandler serves POST /admin/cache/purge: {"tags": ["User:3",
// "events"]} purges the answers tagged so, {"all": true} every answer.
// purge does it, fleet-wide where the gateway shares state; authorize says
// whether the request may (it answers the refusal itself when not).
func PurgeHandler(purge func(ctx context.Context, tags []string) int, authorize func(w http.ResponseWriter, r *http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !authorize(w, r) {
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPurgeBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				httpjson.Error(w, http.StatusRequestEntityTooLarge, "Payload too large", fmt.Sprintf("body: larger than %d bytes", maxPurgeBody))
				return
			}
			httpjson.Error(w, http.StatusBadRequest, "Bad request", "body: could not be read")
			return
		}
		var req purgeRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			httpjson.Error(w, http.StatusBadRequest, "Invalid input", `body: must be {"tags": ["User:3", …]} or {"all": true} (`+err.Error()+`)`)
			return
		}
		var tags []string
		switch {
		case req.All && len(req.Tags) > 0:
			httpjson.Error(w, http.StatusBadRequest, "Invalid input", "body: tags or all, not both")
			return
		case req.All:
			tags = []string{"*"}
		case len(req.Tags) == 0:
			httpjson.Error(w, http.StatusBadRequest, "Invalid input", `tags: must name at least one tag, or send {"all": true}`)
			return
		}
		for i, name := range req.Tags {
			t := Tag(name)
			if t == "" {
				httpjson.Error(w, http.StatusBadRequest, "Invalid input",
					fmt.Sprintf("tags[%d]: %q is no tag (User:<id>, Event:<id>, users or events)", i, truncate(name)))
				return
			}
			tags = append(tags, t)
		}
		n := purge(r.Context(), tags)
		httpjson.Write(w, http.StatusOK, map[string]any{"success": true, "tags": tags, "purged": n})
	})
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
