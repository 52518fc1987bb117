package transport_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

// Every client mistake on /graphql gets a client code, the right status, a
// message that names what is wrong without repeating the body, and changes
// nothing upstream.
func TestGraphQLClientMistakesAreCoded(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	batch := "[" + strings.TrimSuffix(strings.Repeat(servicetest.GraphQLBody("{ users { id } }")+",", 1000), ",") + "]"
	tests := []struct {
		name, method, contentType, body, query string
		status                                 int
		code, msgPart                          string
	}{
		{"empty body", "POST", "application/json", "", "", 400, "BAD_REQUEST", "empty body"},
		{"whitespace body", "POST", "application/json", " \n ", "", 400, "BAD_REQUEST", "empty body"},
		{"query is a number", "POST", "application/json", `{"query":42}`, "", 400, "BAD_REQUEST", "query: must be a string"},
		{"variables is an array", "POST", "application/json", `{"query":"{ users { id } }","variables":[1]}`, "", 400, "BAD_REQUEST", "variables: must be an object"},
		{"operationName is a number", "POST", "application/json", `{"query":"{ users { id } }","operationName":7}`, "", 400, "BAD_REQUEST", "operationName: must be a string"},
		{"extensions is a string", "POST", "application/json", `{"query":"{ users { id } }","extensions":"x"}`, "", 400, "BAD_REQUEST", "extensions: must be an object"},
		{"NUL byte in the JSON", "POST", "application/json", "{\"query\":\"{ users { id } }\x00\"}", "", 400, "BAD_REQUEST", "malformed JSON"},
		{"a JSON string", "POST", "application/json", `"{ users { id } }"`, "", 400, "BAD_REQUEST", "must be a JSON object"},
		{"batch of 1000", "POST", "application/json", batch, "", 400, "BATCH_TOO_LARGE", "at most 10 (MAX_BATCH_SIZE)"},
		{"invalid UTF-8 in a variable", "POST", "application/json", "{\"query\":\"query($id: ID!) { user(id: $id) { id } }\",\"variables\":{\"id\":\"\xff\"}}", "", 400, "BAD_REQUEST", "variables.id: must be valid UTF-8"},
		{"invalid UTF-8 in the query", "POST", "application/json", "{\"query\":\"{ user(id: \\\"\xfe\\\") { id } }\"}", "", 400, "BAD_REQUEST", "query: must be valid UTF-8"},
		{"unsupported content type", "POST", "application/xml", "<query/>", "", 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type"},
		{"PUT", "PUT", "application/json", servicetest.GraphQLBody("{ users { id } }"), "", 405, "METHOD_NOT_ALLOWED", "method PUT"},
		{"mutation over GET", "GET", "", "", `query=` + url.QueryEscape(`mutation { addEvent(input: {name: "x", userId: "1"}) { __typename } }`), 406, "METHOD_NOT_ALLOWED", "GET requests only allow query"},
		{"GET variables not JSON", "GET", "", "", "query=" + url.QueryEscape("{ users { id } }") + "&variables=%7Bnope", 400, "BAD_REQUEST", "variables: must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := g.URL + "/graphql"
			if tt.query != "" {
				url += "?" + tt.query
			}
			resp, body := servicetest.Do(t, tt.method, url, tt.contentType, tt.body, map[string]string{"Apollo-Require-Preflight": "true"})
			var got struct {
				Data   *json.RawMessage           `json:"data"`
				Errors []servicetest.GraphQLError `json:"errors"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("%d %q: not a GraphQL response: %v", resp.StatusCode, body, err)
			}
			if resp.StatusCode != tt.status || len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != tt.code ||
				!strings.Contains(got.Errors[0].Message, tt.msgPart) {
				t.Errorf("%d %.300s; want %d with code %s and %q", resp.StatusCode, body, tt.status, tt.code, tt.msgPart)
			}
			if strings.Contains(body, `"data"`) {
				t.Errorf("a request refused before execution has a data entry: %.200s", body)
			}
			if len(body) > 1024 {
				t.Errorf("answer of %d bytes: the body must not be echoed", len(body))
			}
		})
	}
	if n := g.Sim.Count(eventsim.RouteGetUsers) + g.Sim.Count(eventsim.RouteGetUserByID) + g.Sim.Count(eventsim.RouteAddEvent); n != 0 {
		t.Errorf("refused requests made %d upstream calls", n)
	}
}

// Parse, validation and variable errors follow GraphQL over HTTP: with
// application/graphql-response+json a 400 without "data"; with
// application/json a 200 (the spec's preference), also without "data".
func TestRequestErrorsFollowGraphQLOverHTTP(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	docs := map[string]string{
		"parse":      servicetest.GraphQLBody("{ users { id "),
		"validation": servicetest.GraphQLBody("{ users { age } }"),
		"variables":  `{"query":"query($id: ID!) { user(id: $id) { id } }","variables":{}}`,
	}
	for name, doc := range docs {
		for accept, wantStatus := range map[string]int{
			"application/graphql-response+json": 400,
			"application/json":                  200,
			"":                                  200,
		} {
			resp, body := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", doc, map[string]string{"Accept": accept})
			if resp.StatusCode != wantStatus || strings.Contains(body, `"data"`) || !strings.Contains(body, `"code":"GRAPHQL_`) {
				t.Errorf("%s error, Accept %q: %d %.200s; want %d, coded, no data", name, accept, resp.StatusCode, body, wantStatus)
			}
		}
	}
}
