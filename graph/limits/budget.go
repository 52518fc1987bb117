package limits

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/ratelimit"
)

func init() {
	// A refused budget is a request error: the transport answers it 429,
	// with Retry-After, and without "data".
	errcode.RegisterErrorType(middleware.CodeRateLimited, errcode.KindProtocol)
}

// Budget spends each operation from its caller's budgets (the key the HTTP
// layer put in the context): its complexity from the cost budget
// (COST_BUDGET), so that a few expensive queries cannot spend the upstream,
// and, for an operation on a WebSocket or in a batch after the first, one
// unit of the request budget (RATE_LIMIT), which the HTTP layer spent once
// for the connection or the request. A
// refusal is RATE_LIMITED with extensions.retryAfter. Use it after
// Complexity, whose figure it spends; an operation Complexity did not
// measure (no limit) costs 1.
type Budget struct {
	Budgets *ratelimit.Budgets
	// CountsAsRequest reports whether an operation spends a request of its
	// own (transport.CountsAsRequest: on a WebSocket, in a batch).
	CountsAsRequest func(ctx context.Context) bool
	// OnRefused, if set, hears each refusal by budget ("requests", "cost").
	OnRefused func(budget string)
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Budget{}

// ExtensionName implements graphql.HandlerExtension.
func (Budget) ExtensionName() string { return "Budget" }

// Validate implements graphql.HandlerExtension.
func (Budget) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (b Budget) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	key, ok := ratelimit.KeyFrom(ctx)
	if !ok || key == "" || !b.Budgets.Enabled() { // "": spends nothing (a background refresh)
		return nil
	}
	if b.CountsAsRequest != nil && b.CountsAsRequest(ctx) {
		if d, _ := b.Budgets.Request(ctx, key); !d.Allowed {
			return b.refuse("requests", d)
		}
	}
	cost := 1
	if s, ok := oc.Stats.GetExtension(complexityStatsKey).(*extension.ComplexityStats); ok && s.Complexity > 0 {
		cost = s.Complexity
	}
	if d, _ := b.Budgets.Spend(ctx, key, cost); !d.Allowed {
		return b.refuse("cost", d)
	}
	return nil
}

func (b Budget) refuse(budget string, d ratelimit.Decision) *gqlerror.Error {
	if b.OnRefused != nil {
		b.OnRefused(budget)
	}
	secs := ratelimit.RetryAfterSeconds(d.RetryAfter)
	what := "requests"
	if budget == "cost" {
		what = "query cost (COST_BUDGET)"
	}
	return &gqlerror.Error{
		Message:    fmt.Sprintf("this caller spent its %s budget; retry after %d s", what, secs),
		Extensions: map[string]any{"code": middleware.CodeRateLimited, "retryAfter": secs},
	}
}
