package schemadiff

import (
	"cmp"
	"fmt"
	"slices"
)

// Severity says what a change means for clients already in the field.
type Severity int

const (
	// Info is a change no client can notice by failing: an addition, a
	// description, a deprecation.
	Info Severity = iota
	// Dangerous is a change that keeps every operation valid but may change
	// what a client sees or does: a new enum value or union member that an
	// exhaustive switch does not expect, a changed default.
	Dangerous
	// Breaking is a change that can make an operation that works against
	// the baseline fail: invalid, or answered with something its client
	// was promised would not happen (a null where non-null was declared).
	Breaking
)

// String returns the severity as the check prints it.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Dangerous:
		return "dangerous"
	case Breaking:
		return "breaking"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Change is one difference between the baseline and the new schema.
type Change struct {
	Severity Severity
	// Coordinate names the schema element in the GraphQL schema-coordinate
	// form: Type, Type.field, Type.field(argument:), Enum.VALUE,
	// Input.field, @directive, @directive(argument:).
	Coordinate string
	// Message says what changed and, where it is not obvious, why it
	// matters, e.g. "field removed".
	Message string
}

// String returns the change as "Coordinate: message".
func (c Change) String() string { return c.Coordinate + ": " + c.Message }

// sortChanges orders changes most severe first, then by coordinate, so
// the output is stable and the failures come first.
func sortChanges(changes []Change) {
	slices.SortStableFunc(changes, func(a, b Change) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Coordinate, b.Coordinate); c != 0 {
			return c
		}
		return cmp.Compare(a.Message, b.Message)
	})
}
