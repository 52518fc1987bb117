package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/eventms/gateway/internal/eventsvc"
)

// NewErrorPresenter returns gqlgen's error presenter for svc: every
// resolver error keeps its path (gqlgen's default) and gets the message and
// extensions.code of the service's classification. Failures that are not
// the client's (upstream, internal) are logged whole under the request id,
// since the client-facing message leaves out what only operators need.
func NewErrorPresenter(svc *eventsvc.Service, log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if _, ok := gqlErr.Extensions["code"]; ok {
			return gqlErr
		}
		// gqlgen hands over its own wrapper, whose text starts with the
		// location and path: classify (and word) what it wraps.
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Err != nil {
			err = ge.Err
		}
		f := svc.Failure(err)
		switch f.Class {
		case eventsvc.ClassInternal:
			log.ErrorContext(ctx, "GraphQL resolver failed", "path", gqlErr.Path.String(), "err", err)
		case eventsvc.ClassInvalidInput, eventsvc.ClassNotFound, eventsvc.ClassCanceled, eventsvc.ClassForbidden:
		default:
			log.WarnContext(ctx, "GraphQL field failed upstream", "path", gqlErr.Path.String(), "class", f.Class.String(), "err", err)
		}
		gqlErr.Message = f.Message
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = f.Code
		return gqlErr
	}
}
