package config

import "github.com/eventms/gateway/internal/platform/envvar"

// Paging configures the pages of lists the service hands out (the GraphQL
// connections usersConnection, eventsConnection and User.eventsConnection),
// for eventsvc.Options. A page costs at most its size in upstream lookups,
// and the complexity limit prices it at that size.
//
//	MAX_PAGE_SIZE  MaxPageSize  100  largest first or last a connection accepts (more: BAD_USER_INPUT); with neither, a page holds 20 (or this, if smaller)
type Paging struct {
	MaxPageSize int
}

// loadPaging reads the Paging group.
func loadPaging(r *envvar.Reader) Paging {
	return Paging{MaxPageSize: r.Integer("MAX_PAGE_SIZE", 100, 1, 10000)}
}
