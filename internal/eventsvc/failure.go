package eventsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Class is a kind of failure a caller can act on. Both front doors render a
// failure from its class alone, so adding a class is a change to this file.
type Class int

// The failure classes, from the caller's point of view.
const (
	// ClassInternal: a bug or an unexpected state of the gateway.
	ClassInternal Class = iota
	// ClassInvalidInput: the request is at fault; nothing was sent upstream.
	ClassInvalidInput
	// ClassNotFound: the thing asked for does not exist.
	ClassNotFound
	// ClassUnavailable: the Event API dropped the connection or answered 5xx
	// on a read, after retries.
	ClassUnavailable
	// ClassTimeout: the Event API (or the request's own deadline) ran out of time.
	ClassTimeout
	// ClassBadResponse: the Event API answered something off-contract.
	ClassBadResponse
	// ClassRejected: the Event API refused the request (4xx).
	ClassRejected
	// ClassWriteUnavailable: a write cannot be taken now (circuit open,
	// upstream failing or unreachable); nothing was stored, retry later.
	ClassWriteUnavailable
	// ClassCanceled: the caller went away.
	ClassCanceled
	// ClassForbidden: the caller may not do this; nothing was done.
	ClassForbidden
)

var classNames = [...]string{
	ClassInternal:         "internal error",
	ClassInvalidInput:     "invalid input",
	ClassNotFound:         "not found",
	ClassUnavailable:      "Event API unavailable",
	ClassTimeout:          "Event API timed out",
	ClassBadResponse:      "Event API answered off-contract",
	ClassRejected:         "Event API rejected the request",
	ClassWriteUnavailable: "Event API cannot take writes now",
	ClassCanceled:         "request canceled",
	ClassForbidden:        "forbidden",
}

func (c Class) String() string { return classNames[c] }

// GraphQL error codes (extensions.code), one per class.
const (
	CodeInternal            = "INTERNAL_SERVER_ERROR"
	CodeInvalidInput        = "BAD_USER_INPUT"
	CodeNotFound            = "NOT_FOUND"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamTimeout     = "UPSTREAM_TIMEOUT"
	CodeUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE"
	CodeUpstreamRejected    = "UPSTREAM_REJECTED"
	CodeServiceUnavailable  = "SERVICE_UNAVAILABLE"
	CodeRequestCanceled     = "REQUEST_CANCELED"
	CodeForbidden           = "FORBIDDEN"
)

// StatusClientClosedRequest is the (nginx) status of an answer nobody reads.
const StatusClientClosedRequest = 499

var classCodes = [...]struct {
	code   string
	status int
}{
	ClassInternal:         {CodeInternal, http.StatusInternalServerError},
	ClassInvalidInput:     {CodeInvalidInput, http.StatusBadRequest},
	ClassNotFound:         {CodeNotFound, http.StatusNotFound},
	ClassUnavailable:      {CodeUpstreamUnavailable, http.StatusBadGateway},
	ClassTimeout:          {CodeUpstreamTimeout, http.StatusGatewayTimeout},
	ClassBadResponse:      {CodeUpstreamBadResponse, http.StatusBadGateway},
	ClassRejected:         {CodeUpstreamRejected, http.StatusBadGateway},
	ClassWriteUnavailable: {CodeServiceUnavailable, http.StatusServiceUnavailable},
	ClassCanceled:         {CodeRequestCanceled, StatusClientClosedRequest},
	ClassForbidden:        {CodeForbidden, http.StatusForbidden},
}

// Failure is everything a front door needs to answer a failed call: GraphQL
// renders Code and Message (and, for writes, the ServiceUnavailable member),
// REST renders Status, Message and Retry-After.
type Failure struct {
	Class Class
	// Code is the GraphQL extensions.code.
	Code string
	// Status is the HTTP status of the REST answer.
	Status int
	// Message is safe to show a client: with detailed errors off it names
	// the operation and the class only, never an upstream URL or host.
	Message string
	// Field names the offending input field (ClassInvalidInput only).
	Field string
	// RetryAfter is how many whole seconds the client should wait
	// (ClassWriteUnavailable), at least 1: the form of an HTTP Retry-After
	// header and of GraphQL's retryAfter.
	RetryAfter int
	// Circuit is the write circuit breaker's state (ClassWriteUnavailable):
	// CLOSED, OPEN or HALF_OPEN, the names GraphQL's CircuitState enum uses.
	Circuit string
}

// Failure classifies err, which a Service method returned. Expected
// failures keep their own message (an invalid field, an unknown user);
// upstream failures name the operation and the class, and with detailed
// errors on (development) the upstream's own error text too.
func (s *Service) Failure(err error) Failure {
	var (
		forbidden   *ForbiddenError
		invalid     *InvalidInputError
		unavailable *UnavailableError
		ue          *eventapi.Error
	)
	f := Failure{Class: ClassInternal}
	switch {
	case errors.As(err, &forbidden):
		f.Class, f.Message = ClassForbidden, forbidden.Reason
	case errors.As(err, &invalid):
		f.Class, f.Field, f.Message = ClassInvalidInput, invalid.Field, invalid.Error()
	case errors.As(err, &unavailable):
		f.Class, f.Message = ClassWriteUnavailable, unavailable.Message
		f.RetryAfter, f.Circuit = breaker.RetryAfterSeconds(unavailable.RetryAfter), unavailable.State.String()
	case errors.Is(err, ErrUserNotFound):
		f.Class = ClassNotFound
	case errors.As(err, &ue):
		f.Class = upstreamClass(ue.Kind)
	case errors.Is(err, context.Canceled):
		f.Class = ClassCanceled
	case errors.Is(err, context.DeadlineExceeded):
		f.Class = ClassTimeout
	}
	f.Code, f.Status = classCodes[f.Class].code, classCodes[f.Class].status
	if f.Message == "" {
		f.Message = s.message(err, f.Class, ue)
	}
	return f
}

// message is the client-facing text of a failure without one of its own.
func (s *Service) message(err error, c Class, ue *eventapi.Error) string {
	if s.detailedErrors || c == ClassNotFound {
		return err.Error()
	}
	what := c.String()
	if ue != nil {
		what = ue.Summary()
	}
	var op *opError
	if errors.As(err, &op) {
		return op.op + ": " + what
	}
	if c == ClassInternal {
		return "internal server error"
	}
	return what
}

func upstreamClass(k eventapi.Kind) Class {
	switch k {
	case eventapi.KindTimeout:
		return ClassTimeout
	case eventapi.KindBadResponse:
		return ClassBadResponse
	case eventapi.KindRejected:
		return ClassRejected
	}
	return ClassUnavailable
}

// opError names the service operation a failure happened in, so that a
// client-safe message can say what failed without saying how.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// failed wraps err with the operation it failed in.
func failed(err error, format string, args ...any) error {
	return &opError{op: fmt.Sprintf(format, args...), err: err}
}
