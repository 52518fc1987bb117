package graph

import (
	"github.com/eventms/gateway/graph/model"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// addEventResult renders the service's answer as a member of the
// AddEventResult union; failures of other classes stay GraphQL errors,
// coded by the error presenter.
func (r *mutationResolver) addEventResult(ev *eventapi.Event, err error) (model.AddEventResult, error) {
	if err == nil {
		return &model.AddEventSuccess{Event: ev}, nil
	}
	switch f := r.Service.Failure(err); f.Class {
	case eventsvc.ClassInvalidInput:
		return &model.InvalidInput{Field: f.Field, Message: f.Message}, nil
	case eventsvc.ClassWriteUnavailable:
		return &model.ServiceUnavailable{
			Message:      f.Message,
			RetryAfter:   f.RetryAfter,
			CircuitState: model.CircuitState(f.Circuit),
		}, nil
	}
	return nil, err
}
