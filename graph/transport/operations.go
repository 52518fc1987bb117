package transport

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

type slotsKey struct{}

// withOperationSlots gives a WebSocket connection its budget of operations
// at once.
func withOperationSlots(ctx context.Context, n int) context.Context {
	var slots atomic.Int64
	slots.Store(int64(n))
	return context.WithValue(ctx, slotsKey{}, &slots)
}

// OverWebSocket reports whether ctx is an operation's on a WebSocket.
func OverWebSocket(ctx context.Context) bool {
	_, ok := ctx.Value(slotsKey{}).(*atomic.Int64)
	return ok
}

// LimitOperations (a gqlgen operation middleware) holds a WebSocket
// connection's operations to its limits: every operation, query, mutation
// or subscription, takes one of the connection's slots
// (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION) until it ends, and one past them is
// refused with TOO_MANY_SUBSCRIPTIONS (the connection stays); queries and
// mutations get the request deadline (REQUEST_TIMEOUT), as over HTTP.
// Operations over HTTP pass untouched.
func (s *Streams) LimitOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	slots, ok := ctx.Value(slotsKey{}).(*atomic.Int64)
	if !ok {
		return next(ctx)
	}
	if slots.Add(-1) < 0 {
		slots.Add(1)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    "too many operations at once on this connection (the limit is WS_MAX_SUBSCRIPTIONS_PER_CONNECTION)",
			Extensions: map[string]any{"code": CodeTooManySubscriptions},
		}}})
	}
	context.AfterFunc(ctx, func() { slots.Add(1) })
	oc := graphql.GetOperationContext(ctx)
	responses := next(ctx)
	if oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return responses
	}
	// Resolvers run under the context of the first call of the response
	// handler: the deadline goes there, and ends with the operation.
	var once sync.Once
	var deadlined context.Context
	return func(rctx context.Context) *graphql.Response {
		once.Do(func() {
			var cancel context.CancelFunc
			deadlined, cancel = context.WithTimeout(rctx, s.set.RequestTimeout)
			context.AfterFunc(ctx, cancel)
		})
		return responses(deadlined)
	}
}
