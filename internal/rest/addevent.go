package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsvc"
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

// unavailableBody is the original 503 body, with the breaker's advice.
type unavailableBody struct {
	Success             bool   `json:"success"`
	Error               string `json:"error"`
	Message             string `json:"message"`
	RetryAfter          int    `json:"retryAfter"`
	CircuitBreakerState string `json:"circuitBreakerState"`
}

func (h *Handler) addEvent(w http.ResponseWriter, r *http.Request) {
	// The body size is bounded by the HTTP layer before it gets here.
	in, err := decodeAddEvent(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Invalid input", Message: err.Error()})
		return
	}
	var key *string
	if vs, ok := r.Header["Idempotency-Key"]; ok && len(vs) > 0 {
		key = &vs[0]
	}
	ev, replayed, err := h.svc.AddEvent(r.Context(), in, key)
	var invalid *eventsvc.InvalidInputError
	var unavailable *eventsvc.UnavailableError
	switch {
	case err == nil:
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSON(w, http.StatusOK, addEventOK{Success: true, Event: ev})
	case errors.As(err, &invalid):
		field := invalid.Field
		if field == "idempotencyKey" {
			field = "Idempotency-Key"
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Invalid input", Message: field + ": " + invalid.Reason})
	case errors.As(err, &unavailable):
		secs := breaker.RetryAfterSeconds(unavailable.RetryAfter)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusServiceUnavailable, unavailableBody{
			Error:               "Service temporarily unavailable",
			Message:             unavailable.Message,
			RetryAfter:          secs,
			CircuitBreakerState: unavailable.State.String(),
		})
	default:
		h.fail(w, r, err)
	}
}

// decodeAddEvent reads the body strictly enough to name what is wrong.
func decodeAddEvent(r *http.Request) (eventsvc.NewEvent, error) {
	dec := json.NewDecoder(r.Body)
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
