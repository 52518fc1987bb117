package transport_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

// deferredParts posts query with accept and returns the answer's parts.
func deferredParts(t *testing.T, g *graphtest.Gateway, query, accept string) (string, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.URL+"/graphql", strings.NewReader(servicetest.GraphQLBody(query)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.Header.Get("Content-Type"), readParts(t, resp)
}

// The first part holds no field of a deferred fragment, neither the ones
// gqlgen writes as null (events, which has a resolver) nor the ones it
// resolves at once (email); their part holds them all. Both formats, and a
// fragment on every element of a list.
func TestDeferredFieldsStayOutOfTheFirstPart(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	const q = `{ user(id: "1") { userName ... @defer { email events { id } } } users { id ... @defer(label: "names") { userName } } }`

	t.Run("deferSpec=20220824", func(t *testing.T) {
		ct, parts := deferredParts(t, g, q, "multipart/mixed;deferSpec=20220824, application/json")
		if !strings.Contains(ct, "deferSpec=20220824") || len(parts) < 2 {
			t.Fatalf("%s, %d parts", ct, len(parts))
		}
		first := jsonString(parts[0])
		for _, deferred := range []string{`"email"`, `"events"`, `"userName":"jane_smith"`} {
			if strings.Contains(first, deferred) {
				t.Errorf("first part %s holds %s", first, deferred)
			}
		}
		if !strings.Contains(first, `"userName":"john_doe"`) || parts[0]["hasNext"] != true {
			t.Errorf("first part %s; want user 1's name and hasNext true", first)
		}
		rest, _ := json.Marshal(parts[1:])
		for _, want := range []string{`{"data":{"email":"john@example.com","events":[{"id":"event-1"},{"id":"event-3"}]},"path":["user"]}`,
			`{"data":{"userName":"jane_smith"},"label":"names","path":["users",1]}`} {
			if !strings.Contains(string(rest), want) {
				t.Errorf("later parts %s; want %s", rest, want)
			}
		}
		if parts[len(parts)-1]["hasNext"] != false {
			t.Errorf("last part %v; want hasNext false", parts[len(parts)-1])
		}
	})

	t.Run("incrementalSpec=v0.2", func(t *testing.T) {
		ct, parts := deferredParts(t, g, q, "multipart/mixed;incrementalSpec=v0.2, application/json")
		if !strings.Contains(ct, "incrementalSpec=v0.2") || len(parts) < 2 {
			t.Fatalf("%s, %d parts", ct, len(parts))
		}
		var first struct {
			Data    json.RawMessage
			Pending []struct {
				ID    string
				Path  []any
				Label string
			}
			HasNext bool
		}
		b, _ := json.Marshal(parts[0])
		servicetest.MustUnmarshal(t, b, &first)
		if strings.Contains(string(first.Data), "email") || !first.HasNext || len(first.Pending) != 4 {
			t.Fatalf("first part %s; want no email, hasNext, 4 pending (the user, 3 list items)", b)
		}
		ids := map[string]bool{}
		for _, p := range first.Pending {
			ids[p.ID] = true
		}
		completed := map[string]bool{}
		var incremental []string
		for _, p := range parts[1:] {
			var later struct {
				Incremental []struct {
					ID   string
					Data json.RawMessage
				}
				Completed []struct{ ID string }
			}
			b, _ := json.Marshal(p)
			servicetest.MustUnmarshal(t, b, &later)
			for _, c := range later.Completed {
				completed[c.ID] = true
			}
			for _, in := range later.Incremental {
				if !ids[in.ID] {
					t.Errorf("incremental for %q, which was never pending", in.ID)
				}
				incremental = append(incremental, string(in.Data))
			}
		}
		if len(completed) != 4 {
			t.Errorf("completed %v; want every pending id", completed)
		}
		if all := strings.Join(incremental, " "); !strings.Contains(all, "john@example.com") || !strings.Contains(all, "bob_wilson") {
			t.Errorf("incremental data %s", all)
		}
		if parts[len(parts)-1]["hasNext"] != false {
			t.Errorf("last part %v; want hasNext false", parts[len(parts)-1])
		}
	})

	t.Run("a fragment of plain fields only", func(t *testing.T) {
		// gqlgen resolves email at once and answers in one part; the
		// client asked for it later, and gets it later.
		_, parts := deferredParts(t, g, `{ user(id: "1") { id ... @defer { email } } }`, "multipart/mixed;deferSpec=20220824, application/json")
		all, _ := json.Marshal(parts)
		if len(parts) != 2 || strings.Contains(jsonString(parts[0]), "email") || !strings.Contains(string(all), `"email":"john@example.com"`) {
			t.Errorf("parts %s; want the id first, then the email", all)
		}
	})
}
