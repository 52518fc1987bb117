package transport_test

import (
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// Apollo's multipart subscription protocol (Apollo Client's HttpLink sends
// subscriptions so): boundary "graphql", a heartbeat {} first, then each
// event as {"payload": {"data": …}}.
func TestSubscriptionOverMultipartHTTP(t *testing.T) {
	g := realtimeGateway(t, nil)
	req, _ := http.NewRequest("POST", g.URL+"/graphql", strings.NewReader(servicetest.GraphQLBody(`subscription { eventAdded(userId: "2") { id name } }`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", `multipart/mixed;subscriptionSpec="1.0", application/json`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] != "graphql" || params["subscriptionspec"] != "1.0" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	parts := multipart.NewReader(resp.Body, "graphql")
	read := func() map[string]any {
		t.Helper()
		p, err := parts.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.NewDecoder(p).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if hb := read(); len(hb) != 0 {
		t.Fatalf("first part %v; want the heartbeat {}", hb)
	}
	testwait.For(t, func() bool { return subscribers(g) == 1 })
	g.AddEvent(t, map[string]any{"name": "for someone else", "userId": "1"}, nil)
	added := g.AddEvent(t, map[string]any{"name": "Pushed", "userId": "2"}, nil)
	for {
		p := read()
		if len(p) == 0 {
			continue // a heartbeat
		}
		got := jsonString(p)
		if !strings.Contains(got, `"payload":{"data":{"eventAdded":{"id":"`+added.Event.ID+`","name":"Pushed"}}}`) {
			t.Fatalf("part %s; want user 2's event as the payload", got)
		}
		return
	}
}
