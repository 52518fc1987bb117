package eventsvc

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// fieldChanges says, for every field of NewEvent, how a second request
// differs from the first in that field alone. A field added to NewEvent
// without a case here fails TestIdempotencyKeyConflictPerField: the
// fingerprint must cover it, and this test must prove it does.
var fieldChanges = map[string]func(*NewEvent){
	"Name":    func(in *NewEvent) { in.Name = "Gig (moved)" },
	"UserID":  func(in *NewEvent) { in.UserID = "2" },
	"Details": func(in *NewEvent) { in.Details = "at noon" },
}

// The same idempotency key with an input that differs in any one field is
// a conflict, never a replay of the first event.
func TestIdempotencyKeyConflictPerField(t *testing.T) {
	fields := reflect.VisibleFields(reflect.TypeFor[NewEvent]())
	if len(fields) != len(fieldChanges) {
		t.Errorf("NewEvent has %d fields, fieldChanges %d cases", len(fields), len(fieldChanges))
	}
	for _, f := range fields {
		t.Run(f.Name, func(t *testing.T) {
			change, ok := fieldChanges[f.Name]
			if !ok {
				t.Fatalf("NewEvent.%s has no case in fieldChanges: the idempotency fingerprint must cover it", f.Name)
			}
			first := NewEvent{Name: "Gig", UserID: "1", Details: "at ten"}
			second := first
			change(&second)
			if diff := changedFields(first, second); len(diff) != 1 || diff[0] != f.Name {
				t.Fatalf("the case changes %v; want %s alone", diff, f.Name)
			}
			expectConflict(t, first, second)
		})
	}
}

// Inputs whose fields concatenate to the same bytes are different inputs:
// a separator inside a field must not shift where the fields meet.
func TestIdempotencyFingerprintIsUnambiguous(t *testing.T) {
	tests := []struct {
		name          string
		first, second NewEvent
	}{
		{"NUL moves from name to details (the issue's case)",
			NewEvent{Name: "fp\x003", UserID: "3", Details: "x"}, NewEvent{Name: "fp", UserID: "3", Details: "3\x00x"}},
		{"name and user id meet elsewhere",
			NewEvent{Name: "a\x001", UserID: "1", Details: ""}, NewEvent{Name: "a", UserID: "1\x001", Details: ""}},
		{"user id and details meet elsewhere",
			NewEvent{Name: "n", UserID: "1\x00d", Details: "e"}, NewEvent{Name: "n", UserID: "1", Details: "d\x00e"}},
		{"a NUL alone moves from details to user id",
			NewEvent{Name: "n", UserID: "1", Details: "\x00"}, NewEvent{Name: "n", UserID: "1\x00", Details: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fingerprint(tt.first) == fingerprint(tt.second) {
				t.Errorf("fingerprint(%q) == fingerprint(%q)", tt.first, tt.second)
			}
			api := &fakeAPI{}
			expectConflictWith(t, api, tt.first, tt.second)
		})
	}
}

// A success remembered by a gateway before this fingerprint (the key
// outlives a deploy by up to IDEMPOTENCY_TTL) is still replayed for the
// same input, and still refused for another.
func TestIdempotencyLegacyFingerprintStillReplays(t *testing.T) {
	in := NewEvent{Name: "Gig", UserID: "1", Details: "at ten"}
	legacy := legacyFingerprint(in)
	if !fingerprintMatches(legacy, in) {
		t.Error("a legacy fingerprint does not match its own input")
	}
	if fingerprintMatches(legacy, NewEvent{Name: "Gig", UserID: "1", Details: "at noon"}) {
		t.Error("a legacy fingerprint matches another input")
	}
	if !fingerprintMatches(fingerprint(in), in) || fingerprintMatches(fingerprint(in), NewEvent{Name: "Gig", UserID: "1"}) {
		t.Error("a current fingerprint does not match exactly its own input")
	}
}

func expectConflict(t *testing.T, first, second NewEvent) {
	t.Helper()
	api := &fakeAPI{}
	expectConflictWith(t, api, first, second)
}

func expectConflictWith(t *testing.T, api *fakeAPI, first, second NewEvent) {
	t.Helper()
	svc, _, _ := newTestService(t, api)
	for _, id := range []string{first.UserID, second.UserID} {
		api.users[id] = &eventapi.User{ID: id, UserName: "user " + id}
	}
	key := "same-key"
	ctx := context.Background()
	if _, replayed, err := svc.AddEvent(ctx, first, &key); err != nil || replayed {
		t.Fatalf("first call: %v, replayed %v", err, replayed)
	}
	ev, replayed, err := svc.AddEvent(ctx, second, &key)
	var inv *InvalidInputError
	if !errors.As(err, &inv) || inv.Field != "idempotencyKey" {
		got := "none"
		if ev != nil {
			got = ev.ID
		}
		t.Fatalf("same key, input %q after %q: event %s replayed %v err %v; want InvalidInputError on idempotencyKey",
			second, first, got, replayed, err)
	}
	if api.calls() != 1 {
		t.Errorf("%d upstream writes; want 1 (the conflict writes nothing)", api.calls())
	}
}

// changedFields names the fields in which a and b differ.
func changedFields(a, b NewEvent) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !va.Field(i).Equal(vb.Field(i)) {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return out
}
