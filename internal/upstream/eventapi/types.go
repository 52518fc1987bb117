// Package eventapi is the typed client of the external Event API.
//
// It owns everything about talking to the upstream: one pooled transport
// (called directly, without http.Client: the upstream has no redirects),
// a per-attempt timeout, bounded jittered retries for idempotent GETs, an
// adaptive limit of calls in flight per route (adaptivelimit), and identical
// GETs in flight joined into one call, joinable before they start
// (flight), whose answer is decoded once for all who share it; never
// across retry budgets, across one of the client's writes, or across
// share scopes (see getAll). Lookups by
// many ids take their places in the route's queue at once and cost a
// goroutine only once they run. It never retries addEvent, which is not
// idempotent upstream.
package eventapi

import (
	"errors"
	"fmt"
	"time"
)

// User is a user of the Event API.
type User struct {
	ID       string   `json:"id"`
	UserName string   `json:"userName"`
	Email    string   `json:"email"`
	Events   []string `json:"events"`
}

// Event is an event of the Event API.
type Event struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	UserID  string `json:"userId"`
	Details string `json:"details"`
}

// ErrNotFound is returned when the upstream does not know the requested id.
var ErrNotFound = errors.New("not found")

// Kind classifies an upstream failure.
type Kind int

const (
	// KindUnavailable: the connection dropped or the upstream answered 5xx.
	KindUnavailable Kind = iota + 1
	// KindTimeout: the upstream did not answer within the deadline.
	KindTimeout
	// KindRejected: the upstream answered 4xx; the request itself is at fault.
	KindRejected
	// KindBadResponse: the upstream answered something that is not the contract.
	KindBadResponse
)

func (k Kind) String() string {
	switch k {
	case KindUnavailable:
		return "unavailable"
	case KindTimeout:
		return "timeout"
	case KindRejected:
		return "rejected"
	case KindBadResponse:
		return "bad response"
	}
	return "unknown"
}

// Error is a failed upstream call, after any retries.
type Error struct {
	// Route is the upstream route, e.g. "getEventById".
	Route string
	Kind  Kind
	// Status is the HTTP status, or 0 when none was received.
	Status int
	// RetryAfter is the upstream's Retry-After header, or 0.
	RetryAfter time.Duration
	// Attempts is how many calls were made.
	Attempts int
	Err      error
}

func (e *Error) Error() string {
	msg := e.Summary()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Summary is Error without the underlying error's text, which may name the
// upstream's host and URL: safe to show a client.
func (e *Error) Summary() string {
	msg := fmt.Sprintf("event API %s: %s", e.Route, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return msg
}

// Transient reports whether the failure is the upstream's (unavailable or
// timed out) rather than the request's.
func (e *Error) Transient() bool { return e.Kind == KindUnavailable || e.Kind == KindTimeout }
