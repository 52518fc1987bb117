package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/httpjson"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// addEventBody is the original POST /addEvent body. Pointers tell a missing
// field from an empty one; unknown fields (old callers sent an id) are ignored.
type addEventBody struct {
	Name    *string `json:"name"`
	UserID  *string `json:"userId"`
	Details *string `json:"details"`
}

type addEventOK struct {
	Success bool            `json:"success"`
	Event   *eventapi.Event `json:"event"`
}

func (h *Handler) addEvent(w http.ResponseWriter, r *http.Request) {
	// The body size is bounded by the HTTP layer before it gets here.
	in, err := decodeAddEvent(r)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "Invalid input", err.Error())
		return
	}
	var key *string
	if vs, ok := r.Header["Idempotency-Key"]; ok && len(vs) > 0 {
		key = &vs[0]
	}
	ev, replayed, err := h.svc.AddEvent(r.Context(), in, key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	httpjson.Write(w, http.StatusOK, addEventOK{Success: true, Event: ev})
}

// decodeAddEvent reads the body strictly enough to name what is wrong.
func decodeAddEvent(r *http.Request) (eventsvc.NewEvent, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return eventsvc.NewEvent{}, fmt.Errorf("body: could not be read: %w", err)
	}
	if path, bad := httpjson.InvalidUTF8(raw); bad {
		if path == "" {
			path = "body"
		}
		return eventsvc.NewEvent{}, fmt.Errorf("%s: must be valid UTF-8", path)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var b *addEventBody
	if err := dec.Decode(&b); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return eventsvc.NewEvent{}, fmt.Errorf("%s: must be a %s, got %s", typeErr.Field, strings.TrimPrefix(typeErr.Type.String(), "*"), typeErr.Value)
		case errors.As(err, &typeErr):
			return eventsvc.NewEvent{}, fmt.Errorf("body: must be a JSON object, got %s", typeErr.Value)
		case errors.As(err, &syntaxErr):
			return eventsvc.NewEvent{}, fmt.Errorf("body: malformed JSON at byte %d: %v", syntaxErr.Offset, err)
		case errors.Is(err, io.EOF):
			return eventsvc.NewEvent{}, errors.New("body: must be a JSON object with name and userId")
		default:
			return eventsvc.NewEvent{}, fmt.Errorf("body: malformed JSON: %v", err)
		}
	}
	if b == nil {
		return eventsvc.NewEvent{}, errors.New("body: must be a JSON object, got null")
	}
	if dec.More() {
		return eventsvc.NewEvent{}, errors.New("body: unexpected data after the JSON object")
	}
	var in eventsvc.NewEvent
	if b.Name == nil {
		return in, errors.New("name: is required")
	}
	if b.UserID == nil {
		return in, errors.New("userId: is required")
	}
	in.Name, in.UserID = *b.Name, *b.UserID
	if b.Details != nil {
		in.Details = *b.Details
	}
	return in, nil
}

// requireJSON answers 415 to a request whose body is not declared JSON, so
// a cross-site form cannot post to a JSON route.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			httpjson.Error(w, http.StatusUnsupportedMediaType, "Unsupported media type",
				fmt.Sprintf("Content-Type: must be application/json, got %q", echo(r.Header.Get("Content-Type"))))
			return
		}
		next.ServeHTTP(w, r)
	})
}
