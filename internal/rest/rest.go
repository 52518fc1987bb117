// Package rest serves the original service's REST routes for existing
// callers. It translates HTTP to the shared service layer and back; loading,
// retries and the circuit breaker are the service's, not a second copy.
package rest

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsvc"
)

// AddEventRoute is the one REST route that writes.
const AddEventRoute = "POST /addEvent"

// Handler serves the REST compatibility routes.
type Handler struct {
	svc *eventsvc.Service
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the REST routes over svc.
func New(svc *eventsvc.Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, log: log, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /getUsers", h.getUsers)
	h.mux.HandleFunc("GET /getEvents", h.getEvents)
	h.mux.HandleFunc("GET /getEventsByUserId/{id}", h.getEventsByUserID)
	h.mux.HandleFunc(AddEventRoute, h.addEvent)
	return h
}

// Routes lists the patterns Handler serves, for mounting on a parent mux.
func (h *Handler) Routes() []string {
	return []string{"GET /getUsers", "GET /getEvents", "GET /getEventsByUserId/{id}", AddEventRoute}
}

// ServeHTTP serves the REST routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) getUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.svc.Users(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, users)
}

func (h *Handler) getEvents(w http.ResponseWriter, r *http.Request) {
	events, err := h.svc.Events(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, events)
}

func (h *Handler) getEventsByUserID(w http.ResponseWriter, r *http.Request) {
	events, err := h.svc.EventsByUserID(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, events)
}

// errorBody is the original service's JSON error shape.
type errorBody struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
}

// fail answers err with the status and body an existing caller expects.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ue *eventapi.Error
	switch {
	case errors.Is(err, eventsvc.ErrUserNotFound):
		writeJSON(w, http.StatusNotFound, errorBody{Error: "User not found", Message: "no user with id " + r.PathValue("id")})
	case errors.As(err, &ue) && ue.Kind == eventapi.KindTimeout:
		writeJSON(w, http.StatusGatewayTimeout, errorBody{Error: "Event API timed out", Message: err.Error()})
	case errors.As(err, &ue) && ue.Kind == eventapi.KindRejected:
		writeJSON(w, http.StatusBadGateway, errorBody{Error: "Event API rejected the request", Message: err.Error()})
	case errors.As(err, &ue):
		writeJSON(w, http.StatusBadGateway, errorBody{Error: "Event API unavailable", Message: err.Error()})
	case r.Context().Err() != nil:
		// The caller left; nobody reads this answer.
		w.WriteHeader(499)
	default:
		h.log.ErrorContext(r.Context(), "REST request failed", "route", r.Pattern, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Internal server error"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
