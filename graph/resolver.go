// Package graph is the GraphQL layer: gqlgen's generated executor and thin
// resolvers that translate between GraphQL and the service layer.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/eventsvc/paging"
)

// Resolver is the root resolver; it holds the service every resolver calls.
type Resolver struct {
	Service *eventsvc.Service
}

// listCost is the complexity a list field multiplies its selection by: a
// guess at a list's length, so nested lists cost what they will fetch.
const listCost = 20

// NewConfig returns the executable schema's configuration: the resolvers
// and the complexity of list and connection fields, for the complexity
// limit. svc may be nil for a schema that only validates and prices
// documents (tools, tests); connections are then priced at the default
// page limits.
func NewConfig(svc *eventsvc.Service) Config {
	c := Config{Resolvers: &Resolver{Service: svc}, Directives: directives(svc)}
	list := func(child int) int { return listCost * child }
	c.Complexity.Query.Users = list
	c.Complexity.Query.Events = list
	c.Complexity.User.Events = list
	pages := paging.NewLimits(eventsvc.DefaultMaxPageSize, "")
	if svc != nil {
		pages = svc.PageLimits()
	}
	page := connectionCost(pages)
	c.Complexity.Query.UsersConnection = page
	c.Complexity.Query.EventsConnection = page
	c.Complexity.User.EventsConnection = page
	return c
}
