package graph

import (
	"github.com/eventms/gateway/internal/eventsvc/paging"
)

// pageArgs are a connection field's arguments for the service.
func pageArgs(first *int, after *string, last *int, before *string) paging.Args {
	return paging.Args{First: first, After: after, Last: last, Before: before}
}

// connectionCost returns the complexity of a connection field: its
// selection times the most items its page can hold (first or last, else
// the default size, at most the maximum), so the complexity limit sees what
// the page will cost, as listCost lets it see a list's. The selection
// includes pageInfo and totalCount, which do not grow with the page: a
// small overestimate that keeps the price a product, as gqlgen's own are.
func connectionCost(limits paging.Limits) func(child int, first *int, after *string, last *int, before *string) int {
	return func(child int, first *int, _ *string, last *int, _ *string) int {
		return max(limits.Size(first, last), 1) * child
	}
}
