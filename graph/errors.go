package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/eventapi"
)

// Error codes put in a GraphQL error's extensions.code.
const (
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamTimeout     = "UPSTREAM_TIMEOUT"
	CodeUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE"
	CodeUpstreamRejected    = "UPSTREAM_REJECTED"
	CodeRequestCanceled     = "REQUEST_CANCELED"
	CodeInternal            = "INTERNAL_SERVER_ERROR"
)

// ErrorPresenter gives every resolver error its path (gqlgen's default) and
// an extensions.code a client can branch on.
func ErrorPresenter(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if _, ok := gqlErr.Extensions["code"]; ok {
		return gqlErr
	}
	code := CodeInternal
	var ue *eventapi.Error
	switch {
	case errors.As(err, &ue):
		code = upstreamCode(ue.Kind)
	case errors.Is(err, context.Canceled):
		code = CodeRequestCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = CodeUpstreamTimeout
	}
	if gqlErr.Extensions == nil {
		gqlErr.Extensions = map[string]any{}
	}
	gqlErr.Extensions["code"] = code
	return gqlErr
}

func upstreamCode(k eventapi.Kind) string {
	switch k {
	case eventapi.KindTimeout:
		return CodeUpstreamTimeout
	case eventapi.KindBadResponse:
		return CodeUpstreamBadResponse
	case eventapi.KindRejected:
		return CodeUpstreamRejected
	}
	return CodeUpstreamUnavailable
}
