package servicetest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// AddEventMutation asks for every member of addEvent's result union.
const AddEventMutation = `mutation Add($input: AddEventInput!, $key: String) {
  addEvent(input: $input, idempotencyKey: $key) {
    __typename
    ... on AddEventSuccess { event { id name userId details } }
    ... on ServiceUnavailable { message retryAfter circuitState }
    ... on InvalidInput { message field }
  }
}`

// AddResult is the AddEventResult union, flattened.
type AddResult struct {
	Typename     string `json:"__typename"`
	Event        *eventapi.Event
	Message      string
	RetryAfter   int
	CircuitState string
	Field        string
}

// AddEvent runs AddEventMutation with input and key (nil: none).
func (s *Server) AddEvent(t testing.TB, input map[string]any, key *string) AddResult {
	t.Helper()
	r, err := s.TryAddEvent(input, key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TryAddEvent is AddEvent for goroutines other than the test's.
func (s *Server) TryAddEvent(input map[string]any, key *string) (AddResult, error) {
	vars := map[string]any{"input": input}
	if key != nil {
		vars["key"] = *key
	}
	res, err := s.TryQuery(AddEventMutation, vars)
	if err != nil {
		return AddResult{}, err
	}
	if len(res.Errors) > 0 {
		return AddResult{}, fmt.Errorf("addEvent errors: %+v", res.Errors)
	}
	var out struct{ AddEvent AddResult }
	if err := json.Unmarshal(res.Data, &out); err != nil {
		return AddResult{}, fmt.Errorf("decode addEvent %s: %w", res.Data, err)
	}
	return out.AddEvent, nil
}
