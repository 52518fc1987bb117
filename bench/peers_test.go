package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRotatedPutsEachTargetFirstInTurn(t *testing.T) {
	ts := []string{"a", "b", "c"}
	for k, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := rotated(ts, k); !slices.Equal(got, want) {
			t.Errorf("rotated(%v, %d) = %v, want %v", ts, k, got, want)
		}
	}
	if !slices.Equal(ts, []string{"a", "b", "c"}) {
		t.Errorf("rotated changed its argument: %v", ts)
	}
	if got := rotated(nil, 3); got != nil {
		t.Errorf("rotated(nil) = %v", got)
	}
}

func TestInstallStale(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name                 string
		pkg, lock, installed time.Time
		have                 bool
		want                 bool
	}{
		{"never installed", t0, t0, time.Time{}, false, true},
		{"installed after the lock file", t0, t0, t0.Add(time.Minute), true, false},
		{"lock file changed since", t0, t0.Add(2 * time.Minute), t0.Add(time.Minute), true, true},
		{"package.json changed since", t0.Add(2 * time.Minute), t0, t0.Add(time.Minute), true, true},
	} {
		if got := installStale(c.pkg, c.lock, c.installed, c.have); got != c.want {
			t.Errorf("%s: installStale = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNodeMajor(t *testing.T) {
	for in, want := range map[string]int{"v20.20.2\n": 20, "v18.19.0": 18, "22.1.0": 22} {
		if got, ok := nodeMajor(in); !ok || got != want {
			t.Errorf("nodeMajor(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	if _, ok := nodeMajor("node"); ok {
		t.Error(`nodeMajor("node") ok`)
	}
}

const wrkReport = `Running 5s test @ http://127.0.0.1:41234/getEventsByUserId/u1
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.02ms    3.10ms  45.12ms   78.00%
    Req/Sec     2.31k   210.00     2.80k    70.00%
  Latency Distribution
     50%    6.48ms
     75%    8.20ms
     90%   10.91ms
     99%   18.30ms
  23050 requests in 5.01s, 12.34MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4600.80
Transfer/sec:      2.46MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkRun{requests: 23050, failures: 7, rps: 4600.80, p50: 6480 * time.Microsecond, p99: 18300 * time.Microsecond}
	if got != want {
		t.Errorf("parseWrk = %+v, want %+v", got, want)
	}
}

func TestParseWrkUnitsAndNoErrors(t *testing.T) {
	in := "  Latency Distribution\n     50%  812.00us\n     75%    1.00ms\n     90%    1.50ms\n     99%    1.20s \n" +
		"  100 requests in 1.00s, 1.00KB read\nRequests/sec:    100.00\n"
	got, err := parseWrk(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.p50 != 812*time.Microsecond || got.p99 != 1200*time.Millisecond || got.failures != 0 || got.requests != 100 {
		t.Errorf("parseWrk = %+v", got)
	}
}

func TestParseWrkWithoutLatencyIsAnError(t *testing.T) {
	if _, err := parseWrk("  10 requests in 1.00s, 1KB read\nRequests/sec: 10.00\n"); err == nil {
		t.Error("want an error without --latency's distribution")
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("want an error for a failed run")
	}
}

func TestWrkGraphQLScriptPostsTheQuery(t *testing.T) {
	s := wrkGraphQLScript("u1")
	for _, want := range []string{`wrk.method = "POST"`, `wrk.headers["Content-Type"] = "application/json"`,
		`wrk.body = [==[{"query":"query UserEvents($id: ID!)`, `"variables":{"id":"u1"}}]==]`} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}

func TestRatioAndWithin(t *testing.T) {
	if got := ratio(3, 2); got != "1.50 ×" {
		t.Errorf("ratio(3, 2) = %q", got)
	}
	if got := ratio(3, 0); got != "—" {
		t.Errorf("ratio(3, 0) = %q", got)
	}
	if got := spread([]float64{3, 1, 2}); got != "range 1–3" {
		t.Errorf("spread = %q", got)
	}
	if !within(105, 100, 0.10) || within(111, 100, 0.10) || within(1, 0, 0.10) {
		t.Error("within: wrong bound")
	}
}

func TestPeersCellMediansAndTotals(t *testing.T) {
	c := &peersCell{runs: []peersRun{
		{res: loadResult{requests: 100, rps: 300, p99: 3 * time.Millisecond}, upstream: 1100, rssMiB: 40, cpu: 100 * time.Millisecond},
		{res: loadResult{requests: 100, rps: 100, p99: 9 * time.Millisecond}, upstream: 1100, rssMiB: 60, cpu: 100 * time.Millisecond},
		{res: loadResult{requests: 200, rps: 200, p99: 5 * time.Millisecond}, upstream: 200, rssMiB: 50, cpu: 200 * time.Millisecond},
	}}
	if c.rps() != 200 || c.p99() != 5*time.Millisecond {
		t.Errorf("medians: %v req/s, p99 %v", c.rps(), c.p99())
	}
	if got := c.callsPerRequest(); got != 6 {
		t.Errorf("callsPerRequest = %v, want 2400/400 = 6", got)
	}
	if c.peakRSS() != 50 {
		t.Errorf("peakRSS = %v, want the median 50", c.peakRSS())
	}
	if got := c.cpuPerRequest(); got != time.Millisecond {
		t.Errorf("cpuPerRequest = %v, want 400 ms / 400", got)
	}
	// 100 ms over 100 requests at 300 req/s is 0.3 cores; 0.1 and 0.2 the others.
	if got := c.cores(); got < 0.199 || got > 0.201 {
		t.Errorf("cores = %v, want the median 0.2", got)
	}
}

func TestPeersSectionIsKeyedForMerge(t *testing.T) {
	if !slices.Contains(allSuites, "peers") {
		t.Fatal("peers is not a suite merge.go knows")
	}
	r := &report{opts: options{runs: 3, loadFor: time.Second, concurrency: 256}, machine: "test machine",
		peersRes: &peersResult{when: time.Now(), node: "v20", apollo: "5"}}
	for _, pc := range peersCases {
		for _, tg := range pc.targets {
			r.peersRes.cells = append(r.peersRes.cells, &peersCell{kase: pc.name, concurrency: pc.concurrency, target: tg,
				runs: []peersRun{{res: loadResult{requests: 10, rps: 10}}}})
		}
	}
	md := r.peersMarkdown()
	_, secs := splitSections(md)
	if len(secs) != 1 || secs[0].suite != "peers" {
		t.Fatalf("the section is not keyed as peers: %+v", secs)
	}
	if !strings.Contains(md, "Measured on ") || !strings.Contains(md, "cross-check: skipped") {
		t.Errorf("section lacks its run line or the skipped cross-check:\n%s", md)
	}
}

func TestStatCPUTicks(t *testing.T) {
	// A name with a space and a parenthesis; utime 1234, stime 56.
	stat := "4242 (node (peer) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 11 0 300 1000 5000\n"
	if got, err := statCPUTicks(stat); err != nil || got != 1290 {
		t.Errorf("statCPUTicks = %d, %v; want 1290", got, err)
	}
	if got := statState(stat); got != "S" {
		t.Errorf("statState = %q, want S", got)
	}
	if got := statState("9 (server) Z 1 9"); got != "Z" {
		t.Errorf("statState of a zombie = %q", got)
	}
	if _, err := statCPUTicks("4242 (x) S 1 2"); err == nil {
		t.Error("want an error for a short line")
	}
	if _, err := statCPUTicks("garbage"); err == nil {
		t.Error("want an error without the name")
	}
}

func TestProcGone(t *testing.T) {
	if err := procGone(os.Getpid()); err != nil {
		t.Errorf("this process: %v", err)
	}
	if err := procGone(1 << 30); err == nil {
		t.Error("want an error for a pid that does not exist")
	}
}

// The wrk scripts are real Lua run by a real wrk against a server that
// records what it was asked: distinct users without repeats, the same
// user every time, and GraphQL errors in a 200 counted as failures.
func TestWrkReadScriptAsksWhatItSays(t *testing.T) {
	if wrkPath() == "" {
		t.Skip("wrk is not installed")
	}
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid := strings.TrimPrefix(r.URL.Path, "/getEventsByUserId/")
		if r.Method == http.MethodPost {
			var body struct {
				Query     string
				Variables struct{ ID string }
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Query != userEventsQuery {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			uid = body.Variables.ID
		}
		mu.Lock()
		seen[uid]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // fewer requests in the second than there are users
		switch uid {
		case "u3":
			w.Header().Set("X-Cache", "hit")
		case "u5":
			w.Header()["age"] = []string{"2"} // as node writes it
		case "u6":
			w.Header().Set("X-Cache", "stale")
			w.Header().Set("Age", "9")
		}
		if uid == "u7" {
			_, _ = io.WriteString(w, `{"errors":[{"message":"no"}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"data":{}}`)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		t    wrkTarget
	}{
		{"GraphQL, distinct users", wrkTarget{graphql: true, path: "/graphql", distinct: true, start: 0}},
		{"REST, same user", wrkTarget{path: "/getEventsByUserId/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			clear(seen)
			mu.Unlock()
			wr, err := runWrk(srv.URL+"/", 4, time.Second, wrkReadScript(tc.t, wrkThreads(4)))
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.t.distinct {
				if wr.requests < 10 || len(seen) < wr.requests*9/10 {
					t.Fatalf("%d requests asked for %d distinct users", wr.requests, len(seen))
				}
				if seen["u7"] != 1 || wr.failures != 1 {
					t.Errorf("u7 asked %d times, %d failures counted; want 1 and 1 (its answer carries errors)", seen["u7"], wr.failures)
				}
				if wr.kept != 2 {
					t.Errorf("%d answers counted kept, want 2 (u3's X-Cache: hit, u5's age; not u6's stale one)", wr.kept)
				}
				return
			}
			if len(seen) != 1 || seen[peersSameUser] < wr.requests*9/10 || wr.failures != 0 {
				t.Fatalf("same-user script asked for %v (%d requests, %d failures)", seen, wr.requests, wr.failures)
			}
		})
	}
}

func TestParseWrkKeptAnswers(t *testing.T) {
	got, err := parseWrk(wrkReport + "GraphQL errors: 2\nKept answers: 23001\n")
	if err != nil {
		t.Fatal(err)
	}
	if got.kept != 23001 || got.failures != 9 {
		t.Errorf("parseWrk = %+v, want 23001 kept and 7+2 failures", got)
	}
}
