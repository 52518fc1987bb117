// Package detach makes contexts for work that must outlive its caller's
// cancellation but not its deadline: an upstream call several callers share
// (one caller leaving must not fail the others), or a write whose outcome is
// remembered for the client's retry (it must run to its end once started).
package detach

import (
	"context"
	"time"
)

// From returns a context that carries ctx's values and deadline but is
// cancelled only when that deadline passes, when parent is done, or by the
// returned CancelFunc, never by ctx's own cancellation. parent is how an
// owner ends all such work at once (an upstream client's Close); pass
// context.Background() for none. Call the CancelFunc when the work is done.
func From(parent, ctx context.Context) (context.Context, context.CancelFunc) {
	d := valuesOf{Context: parent, values: ctx}
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(d, deadline)
	}
	return context.WithCancel(d)
}

// valuesOf is parent for cancellation and deadline, values for Value.
type valuesOf struct {
	context.Context
	values context.Context
}

func (v valuesOf) Value(key any) any { return v.values.Value(key) }

// Deadline is parent's only: ctx's deadline is applied by From itself.
func (v valuesOf) Deadline() (time.Time, bool) { return v.Context.Deadline() }
