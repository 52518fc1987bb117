// Package rest serves the original service's REST routes for existing
// callers. It translates HTTP to the shared service layer and back; loading,
// retries and the circuit breaker are the service's, not a second copy.
package rest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/httpjson"
	"github.com/eventms/gateway/internal/middleware"
)

// Mux is where Register mounts the routes; *http.ServeMux is one. The
// composition root may pass its own, to wrap every route in its layers.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// maxIDEcho bounds how much of a caller's id an error message repeats.
const maxIDEcho = 64

// maxAge is how long a browser or CDN may reuse a read, as the schema's
// @cacheControl hints say for the same data: 0, so that a caller reads its
// own writes (answers are revalidated, cheaply, by ETag). Users carry
// e-mail addresses: private.
const maxAge = 0

// Handler serves the REST compatibility routes.
type Handler struct {
	svc *eventsvc.Service
	log *slog.Logger
}

// New returns the REST routes over svc.
func New(svc *eventsvc.Service, log *slog.Logger) *Handler {
	return &Handler{svc: svc, log: log}
}

// Register mounts every REST route on mux, each with its own content rules:
// POST /addEvent takes only a JSON body (415 otherwise), so that a
// cross-site form cannot post to it; the reads say how long their answers
// may be reused (httpcache), so mount them under httpcache.Handler.
func (h *Handler) Register(mux Mux) {
	mux.Handle("GET /getUsers", http.HandlerFunc(h.getUsers))
	mux.Handle("GET /getEvents", http.HandlerFunc(h.getEvents))
	mux.Handle("GET /getEventsByUserId/{id}", http.HandlerFunc(h.getEventsByUserID))
	mux.Handle("POST /addEvent", requireJSON(http.HandlerFunc(h.addEvent)))
}

func (h *Handler) getUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.svc.Users(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpcache.PolicyFrom(r.Context()).Limit(maxAge, true)
	httpjson.Write(w, http.StatusOK, users)
}

func (h *Handler) getEvents(w http.ResponseWriter, r *http.Request) {
	events, err := h.svc.Events(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpcache.PolicyFrom(r.Context()).Limit(maxAge, false)
	httpjson.Write(w, http.StatusOK, events)
}

func (h *Handler) getEventsByUserID(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if reason := badID(id); reason != "" {
		httpjson.Error(w, http.StatusBadRequest, "Invalid input", "id: "+reason)
		return
	}
	events, err := h.svc.EventsByUserID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpcache.PolicyFrom(r.Context()).Limit(maxAge, false)
	httpjson.Write(w, http.StatusOK, events)
}

// Refusals answer, in the original service's error shape, the requests
// the HTTP layers in front of the routes refuse: 401 and 429 (with
// retryAfter, as a 503 carries it).
func Refusals() middleware.Refusals {
	return middleware.Refusals{
		Unauthenticated: func(w http.ResponseWriter, _ *http.Request, message string) {
			httpjson.Error(w, http.StatusUnauthorized, "Unauthorized", message)
		},
		RateLimited: func(w http.ResponseWriter, _ *http.Request, retryAfter int) {
			httpjson.Write(w, http.StatusTooManyRequests, httpjson.ErrorBody{Error: "Too many requests",
				Message: fmt.Sprintf("too many requests from this caller; retry after %d s", retryAfter), RetryAfter: retryAfter})
		},
	}
}

// badID says what is wrong with a user id taken from the path, or "". An
// escaped slash would address another upstream route; control characters
// and invalid UTF-8 are never an id.
func badID(id string) string {
	switch {
	case !utf8.ValidString(id):
		return "must be valid UTF-8"
	case strings.ContainsAny(id, "/\\"):
		return fmt.Sprintf("must be one path segment, got %q", echo(id))
	case len(id) > eventsvc.MaxUserIDLen*4:
		return fmt.Sprintf("must be at most %d characters", eventsvc.MaxUserIDLen)
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f {
			return "must not contain control characters"
		}
	}
	return ""
}

// echo shortens what a caller sent before an error message repeats it.
func echo(s string) string {
	if len(s) <= maxIDEcho {
		return s
	}
	cut := maxIDEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes)", len(s))
}

// errorTexts are the original service's short error texts, by class.
var errorTexts = map[eventsvc.Class]string{
	eventsvc.ClassInvalidInput:     "Invalid input",
	eventsvc.ClassNotFound:         "User not found",
	eventsvc.ClassUnavailable:      "Event API unavailable",
	eventsvc.ClassTimeout:          "Event API timed out",
	eventsvc.ClassBadResponse:      "Event API answered off-contract",
	eventsvc.ClassRejected:         "Event API rejected the request",
	eventsvc.ClassWriteUnavailable: "Service temporarily unavailable",
	eventsvc.ClassForbidden:        "Forbidden",
}

// fail renders a service failure as an existing caller expects it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	f := h.svc.Failure(err)
	switch f.Class {
	case eventsvc.ClassCanceled:
		// The caller left; nobody reads this answer.
		w.WriteHeader(f.Status)
		return
	case eventsvc.ClassForbidden:
	case eventsvc.ClassNotFound:
		f.Message = "no user with id " + echo(r.PathValue("id"))
	case eventsvc.ClassInvalidInput:
		field := f.Field
		if field == "idempotencyKey" {
			field = "Idempotency-Key"
		}
		var invalid *eventsvc.InvalidInputError
		if errors.As(err, &invalid) {
			f.Message = field + ": " + invalid.Reason
		}
	case eventsvc.ClassWriteUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		httpjson.Write(w, f.Status, httpjson.ErrorBody{Error: errorTexts[f.Class], Message: f.Message,
			RetryAfter: f.RetryAfter, CircuitBreakerState: f.Circuit})
		return
	case eventsvc.ClassInternal:
		h.log.ErrorContext(r.Context(), "REST request failed", "route", r.Pattern, "err", err)
		httpjson.Error(w, f.Status, "Internal server error", "")
		return
	default:
		h.log.WarnContext(r.Context(), "REST request failed upstream", "route", r.Pattern, "class", f.Class.String(), "err", err)
	}
	httpjson.Error(w, f.Status, errorTexts[f.Class], f.Message)
}
