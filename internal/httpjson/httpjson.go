// Package httpjson is how the gateway's HTTP front doors speak JSON: one
// writer for answers, one error shape for the REST routes and the HTTP
// layers, and the strictness checks that encoding/json leaves out.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of every JSON answer written here.
const ContentType = "application/json; charset=utf-8"

// Write answers v as JSON with status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorBody is the original service's JSON error shape, which existing REST
// callers parse: success false, a short error and a message for people. The
// optional fields are set only where they apply.
type ErrorBody struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
	// RetryAfter and CircuitBreakerState accompany a 503 for a write.
	RetryAfter          int    `json:"retryAfter,omitempty"`
	CircuitBreakerState string `json:"circuitBreakerState,omitempty"`
	// RequestID accompanies a 500, so a caller can quote it.
	RequestID string `json:"requestId,omitempty"`
}

// Error answers status with the error shape.
func Error(w http.ResponseWriter, status int, errText, message string) {
	Write(w, status, ErrorBody{Error: errText, Message: message})
}
