package eventsvc

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/internal/state/idempotency"
	"github.com/eventms/gateway/internal/upstream/breaker"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Input limits, in characters.
const (
	MaxNameLen    = 200
	MaxDetailsLen = 2000
	MaxUserIDLen  = 100
	MaxKeyLen     = 255
)

// NewEvent is what a caller asks to add.
type NewEvent struct {
	Name    string
	UserID  string
	Details string
}

// AddedEvent is what the idempotency store remembers of a success: the event
// and a fingerprint of the input that created it.
type AddedEvent struct {
	Event       eventapi.Event
	Fingerprint string
}

// InvalidInputError says which input field is wrong and why. Nothing was
// sent upstream.
type InvalidInputError struct {
	Field  string
	Reason string
}

func (e *InvalidInputError) Error() string { return e.Field + ": " + e.Reason }

// UnavailableError says the Event API cannot take the write now; nothing was
// stored.
type UnavailableError struct {
	Message    string
	State      breaker.State
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("event API unavailable (circuit %s, retry after %s): %s", e.State, e.RetryAfter, e.Message)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// AddEvent validates in, then stores it upstream through the circuit
// breaker. With a key (non-nil), a success is remembered: the same key and
// input return it again without an upstream call (replayed is true), and the
// same key with another input is invalid. Expected failures are typed:
// *InvalidInputError and *UnavailableError.
func (s *Service) AddEvent(ctx context.Context, in NewEvent, key *string) (ev *eventapi.Event, replayed bool, err error) {
	in, err = validate(in)
	if err != nil {
		return nil, false, err
	}
	if err := s.mayActFor(ctx, in.UserID); err != nil {
		return nil, false, err
	}
	if key == nil {
		e, err := s.addEvent(ctx, in)
		return e, false, err
	}
	if err := validateKey(*key); err != nil {
		return nil, false, err
	}
	fp := fingerprint(in)
	added, replayed, err := s.idempotency.Do(ctx, *key, func(ctx context.Context) (AddedEvent, error) {
		e, err := s.addEvent(ctx, in)
		if err != nil {
			return AddedEvent{}, err
		}
		return AddedEvent{Event: *e, Fingerprint: fp}, nil
	})
	var storeErr *idempotency.StoreError
	switch {
	case errors.As(err, &storeErr):
		// Whether the key was used cannot be known: refusing is safe, a
		// duplicate is not. Writes without a key still go through.
		return nil, false, &UnavailableError{Message: "idempotency keys cannot be checked now; retry later (or without a key)",
			State: s.breaker.State(), RetryAfter: time.Second, Err: err}
	case errors.Is(err, idempotency.ErrInProgress):
		return nil, false, &UnavailableError{Message: "another request with this idempotency key is still being processed; retry with the same key",
			State: s.breaker.State(), RetryAfter: time.Second, Err: err}
	case err != nil:
		return nil, false, err
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.Bool("idempotency.replayed", replayed))
	if !fingerprintMatches(added.Fingerprint, in) {
		return nil, false, &InvalidInputError{Field: "idempotencyKey",
			Reason: "already used for a different event; use a new key for a new event"}
	}
	e := added.Event
	return &e, replayed, nil
}

// MessageCircuitOpen is what a write rejected by the open circuit is told:
// the original service's text, which existing callers match on.
const MessageCircuitOpen = "Event service is currently experiencing issues. Please try again later."

// addEvent checks that the user exists and stores the event, both under one
// breaker permit: the check is part of the write, so when the upstream is
// down it counts as the write failing, and an open circuit refuses at once
// without calling the upstream at all.
func (s *Service) addEvent(ctx context.Context, in NewEvent) (*eventapi.Event, error) {
	permit, ok := s.breaker.Allow(ctx)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("breaker.state", permit.State.String()), attribute.Bool("breaker.allowed", ok))
	}
	if !ok {
		return nil, &UnavailableError{Message: MessageCircuitOpen, State: permit.State, RetryAfter: permit.RetryAfter}
	}
	u, err := s.api.User(eventapi.WithMaxRetries(ctx, s.writeCheckRetries), in.UserID)
	switch {
	case errors.Is(err, eventapi.ErrNotFound):
		s.breaker.Done(ctx, permit, breaker.Ignored)
		return nil, &InvalidInputError{Field: "userId", Reason: fmt.Sprintf("no user with id %q", in.UserID)}
	case err != nil:
		return nil, s.writeFailed(ctx, permit, failed(err, "add event: check user %q", in.UserID))
	case u == nil:
		s.breaker.Done(ctx, permit, breaker.Ignored)
		return nil, &InvalidInputError{Field: "userId", Reason: fmt.Sprintf("no user with id %q", in.UserID)}
	}
	e := eventapi.Event{ID: s.newID(), Name: in.Name, UserID: in.UserID, Details: in.Details}
	if err := s.api.AddEvent(ctx, e); err != nil {
		return nil, s.writeFailed(ctx, permit, failed(err, "add event for user %q", in.UserID))
	}
	s.breaker.Done(ctx, permit, breaker.Success)
	s.announce(ctx, e)
	// The request's loaders may hold the user as it was before this event.
	l := s.loadersFor(ctx)
	l.Users.Clear(ctx, in.UserID)
	l.Events.Prime(ctx, e.ID, &e)
	return &e, nil
}

// writeFailed records a failed write (or write check) with the breaker and
// says what the caller gets: upstream trouble (unavailable, timed out, or
// an off-contract answer) counts as a failure; unavailability becomes an
// *UnavailableError; a 4xx or the caller leaving says nothing about the
// upstream's health and is ignored.
//
// Running out of time is unavailability however it is reported: eventapi
// types it (KindTimeout, for its own per-attempt timeout and for the
// request's deadline), but a layer between may return the context's own
// error (the entity cache does, to a caller whose deadline passed while it
// waited for a fill), and that is the same fact.
func (s *Service) writeFailed(ctx context.Context, permit breaker.Permit, err error) error {
	var ue *eventapi.Error
	switch {
	case errors.As(err, &ue) && ue.Transient():
		s.breaker.Done(ctx, permit, breaker.Failure)
		return s.unavailable(ue, err)
	case errors.Is(err, context.DeadlineExceeded):
		s.breaker.Done(ctx, permit, breaker.Failure)
		return s.unavailable(&eventapi.Error{Kind: eventapi.KindTimeout, Err: err}, err)
	case errors.As(err, &ue) && ue.Kind == eventapi.KindBadResponse:
		s.breaker.Done(ctx, permit, breaker.Failure)
		return err
	}
	s.breaker.Done(ctx, permit, breaker.Ignored)
	return err
}

// unavailable describes a transient upstream failure, with the breaker's
// state after it was recorded: the failure that opens the circuit tells the
// client to wait for the probe, not to retry in a second.
func (s *Service) unavailable(ue *eventapi.Error, err error) *UnavailableError {
	state, wait := s.breaker.Status()
	if state == breaker.Closed {
		wait = ue.RetryAfter
	}
	msg := "Event API is experiencing high load"
	switch {
	case ue.Kind == eventapi.KindTimeout:
		msg = "Event API did not answer in time"
	case ue.Status == 0:
		msg = "Event API is unreachable"
	}
	return &UnavailableError{Message: msg, State: state, RetryAfter: max(wait, time.Second), Err: err}
}

func validate(in NewEvent) (NewEvent, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.UserID = strings.TrimSpace(in.UserID)
	switch {
	case !utf8.ValidString(in.Name):
		return in, &InvalidInputError{Field: "name", Reason: "must be valid UTF-8"}
	case !utf8.ValidString(in.Details):
		return in, &InvalidInputError{Field: "details", Reason: "must be valid UTF-8"}
	case !utf8.ValidString(in.UserID):
		return in, &InvalidInputError{Field: "userId", Reason: "must be valid UTF-8"}
	case in.Name == "":
		return in, &InvalidInputError{Field: "name", Reason: "must not be empty"}
	case utf8.RuneCountInString(in.Name) > MaxNameLen:
		return in, &InvalidInputError{Field: "name", Reason: fmt.Sprintf("must be at most %d characters", MaxNameLen)}
	case utf8.RuneCountInString(in.Details) > MaxDetailsLen:
		return in, &InvalidInputError{Field: "details", Reason: fmt.Sprintf("must be at most %d characters", MaxDetailsLen)}
	case in.UserID == "":
		return in, &InvalidInputError{Field: "userId", Reason: "must not be empty"}
	case utf8.RuneCountInString(in.UserID) > MaxUserIDLen:
		return in, &InvalidInputError{Field: "userId", Reason: fmt.Sprintf("must be at most %d characters", MaxUserIDLen)}
	}
	return in, nil
}

func validateKey(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return &InvalidInputError{Field: "idempotencyKey", Reason: "must not be empty when given"}
	case len(key) > MaxKeyLen:
		return &InvalidInputError{Field: "idempotencyKey", Reason: fmt.Sprintf("must be at most %d bytes", MaxKeyLen)}
	}
	return nil
}

// fingerprintVersion starts every fingerprint this version makes, so that
// one remembered by an older gateway is told apart (fingerprintMatches).
const fingerprintVersion = "v2:"

// fingerprint identifies an input, so a key reused for another event is
// caught: the SHA-256 of every field, each preceded by its length in bytes.
// The lengths make the encoding unambiguous: no two inputs give the same
// bytes, whatever bytes (NUL included) a field holds. A field added to
// NewEvent must be added here (a test fails until it is).
func fingerprint(in NewEvent) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, field := range []string{in.Name, in.UserID, in.Details} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(field)))])
		h.Write([]byte(field))
	}
	return fingerprintVersion + hex.EncodeToString(h.Sum(nil))
}

// legacyFingerprint is how gateways before fingerprintVersion fingerprinted
// an input (ambiguous: its fields joined with NULs).
func legacyFingerprint(in NewEvent) string {
	h := sha256.Sum256([]byte(in.Name + "\x00" + in.UserID + "\x00" + in.Details))
	return hex.EncodeToString(h[:])
}

// fingerprintMatches reports whether stored, a remembered success's
// fingerprint, is in's. A fingerprint an older gateway stored is compared
// in its own encoding: a client retrying across a deploy, within
// IDEMPOTENCY_TTL, gets its replay rather than a false conflict.
func fingerprintMatches(stored string, in NewEvent) bool {
	if strings.HasPrefix(stored, fingerprintVersion) {
		return stored == fingerprint(in)
	}
	return stored == legacyFingerprint(in)
}

// newEventID returns an id unique across calls, even in the same
// nanosecond (the original used a timestamp, which collides).
func newEventID() string { return "event-" + uuid.Must(uuid.NewV7()).String() }
