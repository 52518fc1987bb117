package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/graph/graphtest"
	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// tenFragments nests a @defer ten named fragments deep inside another.
func tenFragments() string {
	var b strings.Builder
	b.WriteString(`query { user(id: "1") { id ... @defer { ...F0 } } }`)
	for i := range 10 {
		fmt.Fprintf(&b, " fragment F%d on User { id ... @defer { ", i)
		if i < 9 {
			fmt.Fprintf(&b, "...F%d", i+1)
		} else {
			b.WriteString("email events { id }")
		}
		b.WriteString(" } }")
	}
	return b.String()
}

// A @defer nested in a deferred fragment is answered completely: every
// part, the last with hasNext false, on both incremental transports. gqlgen
// never completes nested deferred fragments, so they are flattened into
// their parent's part (InlineDefer).
func TestNestedDeferIsAnsweredCompletely(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{}, nil)
	docs := map[string]string{
		"inline":         `{ user(id: "1") { id ... @defer { id ... @defer { email events { id } } } } }`,
		"three deep":     `{ user(id: "1") { id ... @defer { userName ... @defer { email ... @defer { events { id name } } } } } }`,
		"ten fragments":  tenFragments(),
		"spread twice":   `query { user(id: "1") { ...A ... @defer { ...A } } } fragment A on User { id ... @defer { events { id } } }`,
		"sibling defers": `{ user(id: "1") { id ... @defer { email } ... @defer { events { id } } } }`,
	}
	client := &http.Client{Timeout: testwait.Limit} // turns a hang into a failure
	for name, doc := range docs {
		for _, accept := range []string{"multipart/mixed;deferSpec=20220824, application/json", "text/event-stream"} {
			t.Run(name+" "+strings.Fields(accept)[0], func(t *testing.T) {
				req, _ := http.NewRequest("POST", g.URL+"/graphql", strings.NewReader(servicetest.GraphQLBody(doc)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				parts := readParts(t, resp)
				all, _ := json.Marshal(parts)
				// The last part ends the answer: hasNext false, or, when
				// nothing was left to defer, one complete answer.
				if last := len(parts) - 1; last < 0 || parts[last]["hasNext"] == true || (last > 0 && parts[last]["hasNext"] != false) {
					t.Fatalf("parts %s; want the last with hasNext false", all)
				}
				if !strings.Contains(string(all), "event-3") {
					t.Errorf("parts %s; want the deferred events", all)
				}
				for _, p := range parts {
					if errs, ok := p["errors"]; ok {
						t.Errorf("part with errors: %v", errs)
					}
				}
			})
		}
	}
}

// readParts reads a multipart/mixed or text/event-stream answer's JSON parts.
func readParts(t *testing.T, resp *http.Response) []map[string]any {
	t.Helper()
	var parts []map[string]any
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "multipart/mixed":
		r := multipart.NewReader(resp.Body, params["boundary"])
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				return parts
			}
			if err != nil {
				t.Fatalf("part %d: %v", len(parts), err)
			}
			var v map[string]any
			if err := json.NewDecoder(p).Decode(&v); err != nil {
				t.Fatalf("part %d is not JSON: %v", len(parts), err)
			}
			parts = append(parts, v)
		}
	case "application/json":
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return []map[string]any{v}
	case "text/event-stream":
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(body), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var v map[string]any
				if err := json.Unmarshal([]byte(data), &v); err != nil {
					t.Fatalf("event %q is not JSON: %v", data, err)
				}
				parts = append(parts, v)
			}
		}
		return parts
	}
	t.Fatalf("Content-Type %q: not a stream", resp.Header.Get("Content-Type"))
	return nil
}

// Clients that leave a deferred answer before its end free everything the
// request held: no goroutine stays behind.
func TestLeftDeferredAnswersLeaveNothingBehind(t *testing.T) {
	g := graphtest.New(t, eventsim.Config{EventDelay: time.Second}, nil)
	doc := servicetest.GraphQLBody(`{ user(id: "1") { id ... @defer { id ... @defer { events { id } } } } }`)
	// One answer read to its end first: the upstream connections it opens
	// stay pooled, and are no leak.
	resp, _ := servicetest.Do(t, "POST", g.URL+"/graphql", "application/json", doc,
		map[string]string{"Accept": "multipart/mixed;deferSpec=20220824, application/json"})
	if resp.StatusCode != 200 {
		t.Fatalf("warm-up: %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/graphql", strings.NewReader(doc))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824, application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		_, _ = resp.Body.Read(buf) // the first part has started
		cancel()
		resp.Body.Close()
	}
	http.DefaultClient.CloseIdleConnections()
	defer func() {
		if t.Failed() {
			buf := make([]byte, 1<<20)
			t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}()
	testwait.Until(t, "the left requests' goroutines to end", func() bool {
		return runtime.NumGoroutine() <= before+5
	})
}
