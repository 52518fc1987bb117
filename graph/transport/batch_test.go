package transport_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
)

// postBatch posts ops as one batch and decodes the array of answers.
func postBatch(t *testing.T, g *graphtest.Gateway, ops ...map[string]any) (int, []servicetest.Response, string) {
	t.Helper()
	body, _ := json.Marshal(ops)
	resp, raw := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", string(body), nil)
	var out []servicetest.Response
	_ = json.Unmarshal([]byte(raw), &out)
	return resp.StatusCode, out, raw
}

func op(query string) map[string]any { return map[string]any{"query": query} }

// A batch is answered with an array, in order, each answer with its own
// errors, and costs no more upstream calls than one request asking for the
// same things.
func TestBatchIsAnsweredInOrderAndCostsWhatOneRequestCosts(t *testing.T) {
	queries := []string{
		`{ user(id: "1") { events { id } } }`,
		`{ user(id: "1") { userName events { name } } }`,
		`{ event(id: "event-3") { id name } }`,
		`{ user(id: "2") { events { id } } }`,
		`{ nope }`,
	}
	calls := func(g *graphtest.Gateway) int {
		return g.Sim.Count(eventsim.RouteGetUserByID) + g.Sim.Count(eventsim.RouteGetEventByID)
	}
	batched := graphtest.New(t, eventsim.Config{}, nil)
	var ops []map[string]any
	for _, q := range queries {
		ops = append(ops, op(q))
	}
	status, answers, raw := postBatch(t, batched, ops...)
	if status != 200 || len(answers) != len(queries) {
		t.Fatalf("%d %s; want 200 and %d answers", status, raw, len(queries))
	}
	for i, want := range []string{`"event-3"`, `"john_doe"`, `"Workshop"`, `"event-2"`} {
		if !strings.Contains(string(answers[i].Data), want) || len(answers[i].Errors) > 0 {
			t.Errorf("answer %d: %s %v; want %s", i, answers[i].Data, answers[i].Errors, want)
		}
	}
	if last := answers[4]; len(last.Errors) != 1 || last.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || last.Data != nil {
		t.Errorf("invalid operation's answer %+v; want its own validation error and no data", last)
	}

	one := graphtest.New(t, eventsim.Config{}, nil)
	res := one.Query(t, `{ a: user(id: "1") { userName events { id name } } b: event(id: "event-3") { id name } c: user(id: "2") { events { id } } }`, nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if calls(batched) > calls(one) {
		t.Errorf("the batch made %d upstream calls, one request asking for the same %d", calls(batched), calls(one))
	}
}

// Mutations in a batch run in order, one after the other.
func TestBatchedMutationsRunInOrder(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	var ops []map[string]any
	for _, name := range []string{"first", "second", "third", "fourth"} {
		ops = append(ops, op(`mutation { addEvent(input: {name: "`+name+`", userId: "2"}) { __typename } }`))
	}
	if status, answers, raw := postBatch(t, g, ops...); status != 200 || len(answers) != 4 || strings.Count(raw, "AddEventSuccess") != 4 {
		t.Fatalf("%d %s", status, raw)
	}
	var names []string
	for _, id := range g.Sim.UserEvents("2")[1:] {
		names = append(names, string(g.Query(t, `query($id: ID!) { event(id: $id) { name } }`, map[string]any{"id": id}).Data))
	}
	got := strings.Join(names, " ")
	for i, name := range []string{"first", "second", "third", "fourth"} {
		if !strings.Contains(names[i], `"`+name+`"`) {
			t.Fatalf("stored in the order %s; want first, second, third, fourth", got)
		}
	}
}

// A batch's limits: its size, its operations' complexity together, and
// every operation a well-formed request.
func TestBatchLimits(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, func(c *config.Config) {
		c.GraphQL.MaxBatchSize = 3
		c.GraphQL.MaxComplexity = 50
	})
	if status, _, raw := postBatch(t, g, op(`{ users { id } }`), op(`{ users { id } }`), op(`{ users { id } }`), op(`{ users { id } }`)); status != 400 || !strings.Contains(raw, "BATCH_TOO_LARGE") {
		t.Errorf("4 operations over a limit of 3: %d %s", status, raw)
	}
	// { users { id } } costs 20 + 1: two fit under 50, three do not.
	if status, answers, raw := postBatch(t, g, op(`{ users { id } }`), op(`{ users { id } }`)); status != 200 || strings.Contains(raw, "COMPLEXITY") || len(answers) != 2 {
		t.Errorf("two cheap operations: %d %s", status, raw)
	}
	status, answers, raw := postBatch(t, g, op(`{ users { id } }`), op(`{ users { id } }`), op(`{ users { id } }`))
	if status != 200 || len(answers) != 3 || strings.Count(raw, "COMPLEXITY_LIMIT_EXCEEDED") != 3 || strings.Contains(raw, `"data":{`) {
		t.Errorf("three operations over the complexity limit together: %d %s", status, raw)
	}
	resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", `[{"query":"{ users { id } }"},{"query":7}]`, nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "[1].query: must be a string") {
		t.Errorf("a malformed operation: %d %s", resp.StatusCode, body)
	}
	// The batch within its limits asked for the users twice (concurrent
	// identical calls may share one); the refused ones reached nothing.
	if n := g.Sim.Count(eventsim.RouteGetUsers); n < 1 || n > 2 {
		t.Errorf("%d getUsers calls; want 1 or 2, from the one batch within its limits", n)
	}
}
