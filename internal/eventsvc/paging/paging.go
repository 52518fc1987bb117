// Package paging applies Relay connection arguments (first, after, last,
// before) to a list whose length is known, as the Relay Cursor Connections
// specification's algorithm does, and makes and reads the list's cursors.
//
// A cursor names a position in one list, so it stays valid while the list
// grows at its end: a user's events are their id list, to which addEvent
// appends, and the upstream's users and events are listed in the order it
// keeps them. A cursor carries the list's name and is refused by any other
// list. Positions are counted in the list the upstream hands over, so a
// caller that leaves items out (ids the upstream no longer knows) still
// pages by position and neither repeats nor skips an item.
//
// The package knows nothing of what the items are: it is written here
// rather than taken from a library because the service pages lists it has
// whole in memory (an id list, a listed collection), which needs only a
// window's arithmetic, not a query builder's.
package paging

import (
	"fmt"
)

// DefaultSize is how many items a page holds when the client gives neither
// first nor last (at most Limits.Max).
const DefaultSize = 20

// Args are a connection's arguments as the client gave them; nil is absent.
type Args struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// ArgError says which argument is wrong and why.
type ArgError struct {
	// Arg is the argument's name: first, last, after or before.
	Arg    string
	Reason string
}

func (e *ArgError) Error() string { return e.Arg + ": " + e.Reason }

// Limits bound what a page may hold.
type Limits struct {
	// Max is the largest first or last accepted; more is an error.
	Max int
	// Default is the page size when neither first nor last is given.
	Default int
	// MaxName names the setting behind Max in error messages
	// (MAX_PAGE_SIZE), so a client learns what bounds it.
	MaxName string
}

// NewLimits returns Limits of at most max items a page, DefaultSize (or max
// if smaller) when no size is given, maxName naming max's setting.
func NewLimits(max int, maxName string) Limits {
	return Limits{Max: max, Default: min(DefaultSize, max), MaxName: maxName}
}

// Size is the most items a page asked for with first and last can hold,
// whatever else the arguments say and even if they are invalid: what the
// page can cost, for a complexity limit that runs before the arguments are
// checked.
func (l Limits) Size(first, last *int) int {
	n := l.Default
	switch {
	case first != nil && last != nil:
		n = max(*first, *last)
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return min(max(n, 0), l.Max)
}

// Page returns the window of the list named list, total items long, that
// args select, or an *ArgError: first and last together, either negative or
// over Max, a cursor that is malformed, altered or from another list.
//
// It follows the specification's algorithm. after and before bound the
// page (a cursor past the list's end bounds it at the end); first keeps
// the first items of what they bound, last the last ones; neither gives
// Default items, from the start, or from the end when only before is given
// (paging backward). hasNextPage is true when first cut items off the end;
// hasPreviousPage when last cut items off the start. Where the
// specification lets a server tell more if it can do so cheaply, which it
// can with the list's length in hand, this does: paging with after (and not
// last), hasPreviousPage says whether items precede the page; paging with
// before (and not first), hasNextPage says whether items follow it.
func (l Limits) Page(list string, total int, a Args) (Window, error) {
	if a.First != nil && a.Last != nil {
		return Window{}, &ArgError{Arg: "last", Reason: "cannot be given with first: page forward with first and after, or backward with last and before"}
	}
	if err := l.checkSize("first", a.First); err != nil {
		return Window{}, err
	}
	if err := l.checkSize("last", a.Last); err != nil {
		return Window{}, err
	}
	lo, hi := 0, total
	if a.After != nil {
		pos, err := decode(list, "after", *a.After)
		if err != nil {
			return Window{}, err
		}
		lo = min(pos, total-1) + 1 // past the end: an empty page at the end
	}
	if a.Before != nil {
		pos, err := decode(list, "before", *a.Before)
		if err != nil {
			return Window{}, err
		}
		hi = min(pos, total)
	}
	lo = max(lo, 0)
	hi = max(hi, lo) // after at or past before: an empty page
	first, last := a.First, a.Last
	if first == nil && last == nil {
		if a.Before != nil && a.After == nil {
			last = &l.Default
		} else {
			first = &l.Default
		}
	}
	w := Window{List: list, Start: lo, End: hi, Total: total}
	switch {
	case first != nil:
		if hi-lo > *first {
			w.End, w.hasNext = lo+*first, true
		}
		w.hasPrevious = a.After != nil && lo > 0
	case last != nil:
		if hi-lo > *last {
			w.Start, w.hasPrevious = hi-*last, true
		}
		w.hasNext = a.Before != nil && hi < total
	}
	return w, nil
}

// checkSize checks first or last.
func (l Limits) checkSize(arg string, n *int) error {
	switch {
	case n == nil:
		return nil
	case *n < 0:
		return &ArgError{Arg: arg, Reason: "must not be negative"}
	case *n > l.Max:
		name := ""
		if l.MaxName != "" {
			name = " (" + l.MaxName + ")"
		}
		return &ArgError{Arg: arg, Reason: fmt.Sprintf("must be at most %d%s", l.Max, name)}
	}
	return nil
}

// Window is the part of a list a page holds, positions [Start, End) of
// Total, and what the page says of the rest: the fields of a connection's
// pageInfo, and the cursors of its edges.
type Window struct {
	// List names the list; its cursors carry the name.
	List       string
	Start, End int
	Total      int

	hasPrevious, hasNext bool
}

// Len is how many positions the page holds.
func (w Window) Len() int { return w.End - w.Start }

// Cursor returns the cursor of position pos of the list.
func (w Window) Cursor(pos int) string { return encode(w.List, pos) }

// HasNextPage says whether items follow the page (see Limits.Page).
func (w Window) HasNextPage() bool { return w.hasNext }

// HasPreviousPage says whether items precede the page (see Limits.Page).
func (w Window) HasPreviousPage() bool { return w.hasPrevious }

// StartCursor is the cursor of the page's first position, nil for an empty
// page.
func (w Window) StartCursor() *string {
	if w.Len() <= 0 {
		return nil
	}
	c := w.Cursor(w.Start)
	return &c
}

// EndCursor is the cursor of the page's last position, nil for an empty
// page.
func (w Window) EndCursor() *string {
	if w.Len() <= 0 {
		return nil
	}
	c := w.Cursor(w.End - 1)
	return &c
}
