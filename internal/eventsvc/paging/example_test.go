package paging_test

import (
	"fmt"

	"github.com/eventms/gateway/internal/eventsvc/paging"
)

// Walking a list of 7 forward, 3 at a time: each page starts after the
// previous page's endCursor.
func ExampleLimits_Page() {
	limits := paging.NewLimits(100, "MAX_PAGE_SIZE")
	three := 3
	args := paging.Args{First: &three}
	for {
		w, err := limits.Page("user/1/events", 7, args)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("[%d, %d) of %d, previous %v, next %v\n", w.Start, w.End, w.Total, w.HasPreviousPage(), w.HasNextPage())
		if !w.HasNextPage() {
			break
		}
		args.After = w.EndCursor()
	}
	// A cursor of another list is refused, naming the argument.
	other, _ := limits.Page("user/2/events", 7, paging.Args{})
	_, err := limits.Page("user/1/events", 7, paging.Args{After: other.EndCursor()})
	fmt.Println(err)
	// Output:
	// [0, 3) of 7, previous false, next true
	// [3, 6) of 7, previous true, next true
	// [6, 7) of 7, previous true, next false
	// after: cursor is not from this list
}
