package graph

import (
	"errors"

	"github.com/eventms/gateway/graph/model"
	"github.com/eventms/gateway/internal/breaker"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/eventsvc"
)

// addEventResult turns the service's answer into a member of the
// AddEventResult union; unexpected failures stay GraphQL errors.
func addEventResult(ev *eventapi.Event, err error) (model.AddEventResult, error) {
	var invalid *eventsvc.InvalidInputError
	var unavailable *eventsvc.UnavailableError
	switch {
	case err == nil:
		return &model.AddEventSuccess{Event: ev}, nil
	case errors.As(err, &invalid):
		return &model.InvalidInput{Field: invalid.Field, Message: invalid.Error()}, nil
	case errors.As(err, &unavailable):
		return &model.ServiceUnavailable{
			Message:      unavailable.Message,
			RetryAfter:   breaker.RetryAfterSeconds(unavailable.RetryAfter),
			CircuitState: circuitState(unavailable.State),
		}, nil
	}
	return nil, err
}

func circuitState(s breaker.State) model.CircuitState {
	switch s {
	case breaker.Open:
		return model.CircuitStateOpen
	case breaker.HalfOpen:
		return model.CircuitStateHalfOpen
	}
	return model.CircuitStateClosed
}
