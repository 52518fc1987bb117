// Package graph is the GraphQL layer: gqlgen's generated executor and thin
// resolvers that translate between GraphQL and the service layer.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import "github.com/eventms/gateway/internal/eventsvc"

// Resolver is the root resolver; it holds the service every resolver calls.
type Resolver struct {
	Service *eventsvc.Service
}
