// Package detach makes contexts for work that must outlive its caller's
// cancellation but not its deadline: an upstream call several callers share
// (one caller leaving must not fail the others), or a write whose outcome is
// remembered for the client's retry (it must run to its end once started).
package detach

import (
	"context"
)

// From returns a context that carries ctx's values and deadline but is
// cancelled only when that deadline passes, when parent is done, or by the
// returned CancelFunc, never by ctx's own cancellation. parent is how an
// owner ends all such work at once (an upstream client's Close); pass
// context.Background() for none. Call the CancelFunc when the work is done.
//
// It is built from the standard library's pieces so that nothing runs per
// call: context.WithoutCancel keeps the values and is never done, so the
// deadline's timer needs no goroutine to watch a parent, and
// context.AfterFunc joins parent's cancellation by registering with it. (A
// wrapper type whose Value answered from ctx made the context package
// start a goroutine per detached call to watch the wrapper.)
func From(parent, ctx context.Context) (context.Context, context.CancelFunc) {
	values := context.WithoutCancel(ctx)
	var d context.Context
	var cancel context.CancelFunc
	if deadline, ok := ctx.Deadline(); ok {
		d, cancel = context.WithDeadline(values, deadline)
	} else {
		d, cancel = context.WithCancel(values)
	}
	if parent.Done() == nil {
		return d, cancel
	}
	stop := context.AfterFunc(parent, cancel)
	return d, func() {
		stop()
		cancel()
	}
}
