package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/servicetest"
)

// An upstream 2xx is a success only with the contract's body. Anything
// else is a coded failure on both doors, is not remembered under the
// idempotency key, and counts against the breaker.
func TestAddEventOffContractAnswers(t *testing.T) {
	bodies := map[string]string{
		"broken JSON":    `{"success":tr`,
		"HTML":           `<html><body>Welcome</body></html>`,
		"JSON array":     `[{"success":true}]`,
		"wrong types":    `{"success":"yes"}`,
		"success false":  `{"success":false,"error":"disk full"}`,
		"empty":          ``,
		"no success key": `{"id":"e1"}`,
	}
	for name, answer := range bodies {
		t.Run(name, func(t *testing.T) {
			sim := eventsim.New(eventsim.Config{})
			var writes atomic.Int32
			g := gatewayOver(t, sim, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/addEvent" {
					writes.Add(1)
					_, _ = w.Write([]byte(answer))
					return
				}
				sim.ServeHTTP(w, r)
			})
			key := "key-" + strings.ReplaceAll(name, " ", "-")
			res, err := g.tryQuery(servicetest.AddEventMutation, map[string]any{"input": map[string]any{"name": "x", "userId": "1"}, "key": key})
			if err != nil {
				t.Fatal(err)
			}
			wantCode := "UPSTREAM_BAD_RESPONSE"
			if name == "success false" {
				wantCode = "" // the upstream said it failed: ServiceUnavailable
			}
			switch {
			case wantCode != "" && (len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != wantCode):
				t.Errorf("GraphQL: %s %+v; want code %s", res.Data, res.Errors, wantCode)
			case wantCode == "" && !strings.Contains(string(res.Data), `"ServiceUnavailable"`):
				t.Errorf("GraphQL: %s %+v; want ServiceUnavailable", res.Data, res.Errors)
			}
			if strings.Contains(string(res.Data), "AddEventSuccess") {
				t.Errorf("reported a success the upstream did not give: %s", res.Data)
			}
			var rest map[string]any
			resp := g.post(t, "/addEvent", `{"name":"x","userId":"1"}`, map[string]string{"Idempotency-Key": key}, &rest)
			if resp.StatusCode == 200 || rest["success"] != false {
				t.Errorf("REST: %d %v; want a failure", resp.StatusCode, rest)
			}
			// Neither answer was remembered: the key's retry calls the upstream again.
			if writes.Load() != 2 {
				t.Errorf("%d upstream writes for two tries under one key; want 2 (failures are not remembered)", writes.Load())
			}
			if resp.Header.Get("Idempotent-Replayed") != "" {
				t.Error("a failure was replayed")
			}
		})
	}
}

// When the upstream is down, addEvent is ServiceUnavailable on GraphQL and
// 503 with Retry-After on REST, also when it is the user check that fails,
// and the breaker opens after its threshold.
func TestAddEventDuringAnOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connection refused from now on
	a, err := newTestApp(servicetest.Config(t), "http://"+addr, servicetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	g := &gateway{url: srv.URL, app: a}

	for i, wantState := range []string{"CLOSED", "CLOSED", "OPEN", "OPEN"} {
		r := g.server().AddEvent(t, map[string]any{"name": "x", "userId": "1"}, nil)
		if r.Typename != "ServiceUnavailable" || r.CircuitState != wantState || r.RetryAfter < 1 {
			t.Errorf("call %d: %+v; want ServiceUnavailable %s", i+1, r, wantState)
		}
		if strings.Contains(r.Message, addr) {
			t.Errorf("message %q names the upstream", r.Message)
		}
	}
	var rest map[string]any
	resp := g.post(t, "/addEvent", `{"name":"x","userId":"1"}`, nil, &rest)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || rest["circuitBreakerState"] != "OPEN" ||
		rest["message"] != "Event service is currently experiencing issues. Please try again later." {
		t.Errorf("REST while open: %d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), rest)
	}
}
