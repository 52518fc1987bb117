package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCachedSectionIsKeyedForMerge(t *testing.T) {
	if i, j := slices.Index(allSuites, "peers"), slices.Index(allSuites, "cached"); j < 0 || j != i+1 {
		t.Fatalf("cached is not the suite after peers in %v", allSuites)
	}
	res := &peersResult{when: time.Now(), node: "v20", apollo: "5"}
	c := &cachedResult{peers: res, extra: map[*peersCell][]cachedRun{}, maxAge: 5, plugin: "5.0.0"}
	for _, pc := range cachedCases {
		for _, tg := range pc.targets {
			cell := &peersCell{kase: pc.name, concurrency: pc.concurrency, target: tg,
				runs: []peersRun{{res: loadResult{requests: 100, rps: 100, p99: time.Millisecond}}}}
			res.cells = append(res.cells, cell)
			c.extra[cell] = []cachedRun{{kept: 99, lookups: respLookups{hit: 99, miss: 1}, warmPass: 2, warmed: true, warmTook: 1500 * time.Millisecond}}
		}
	}
	r := &report{opts: options{runs: 1, loadFor: time.Second, concurrency: 1024}, machine: "test machine", cachedRes: c}
	md := r.cachedMarkdown()
	_, secs := splitSections(md)
	if len(secs) != 1 || secs[0].suite != "cached" {
		t.Fatalf("the section is not keyed as cached: %+v", secs)
	}
	for _, want := range []string{"Measured on ", "defaultMaxAge: 5", "**holds**", "99.0 %", "99.00 % / 0 / 1, 0", "2 in 1.5 s (1 of 1 warm)"} {
		if !strings.Contains(md, want) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
}

// The done-when verdict follows the same-user c=32 cell's medians: REST
// faster than GraphQL, or GraphQL's p99 over 1.2 × REST's, does not hold.
func TestCachedDoneWhen(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gRPS, rRPS float64
		gP99, rP99 time.Duration
		want       string
	}{
		{"equal", 1000, 1000, 10 * time.Millisecond, 10 * time.Millisecond, "**holds**"},
		{"slower", 900, 1000, 10 * time.Millisecond, 10 * time.Millisecond, "**does not hold**"},
		{"p99 at 1.2 ×", 1100, 1000, 12 * time.Millisecond, 10 * time.Millisecond, "**holds**"},
		{"p99 over 1.2 ×", 1100, 1000, 13 * time.Millisecond, 10 * time.Millisecond, "**does not hold**"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &peersResult{}
			for _, x := range []struct {
				tg  string
				rps float64
				p99 time.Duration
			}{{tgtKeptGraphQL, tc.gRPS, tc.gP99}, {tgtKeptREST, tc.rRPS, tc.rP99}} {
				res.cells = append(res.cells, &peersCell{kase: caseKeptSame, concurrency: peersCrossConcurrency, target: x.tg,
					runs: []peersRun{{res: loadResult{requests: 10, rps: x.rps, p99: x.p99}}}})
			}
			r := &report{cachedRes: &cachedResult{peers: res, extra: map[*peersCell][]cachedRun{}}}
			if got := r.cachedDoneWhen(); !strings.Contains(got, tc.want) {
				t.Errorf("verdict %q lacks %q", got, tc.want)
			}
		})
	}
}

func TestLookupsOf(t *testing.T) {
	m, err := parseProm(strings.NewReader(`# TYPE gateway_response_cache_lookups_total counter
gateway_response_cache_lookups_total{result="hit"} 439324
gateway_response_cache_lookups_total{result="miss"} 38
gateway_response_cache_lookups_total{result="stale"} 423
gateway_response_cache_lookups_total{result="stored"} 44
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lookupsOf(m), (respLookups{hit: 439324, stale: 423, miss: 38, stored: 44}); got != want {
		t.Errorf("lookupsOf = %+v, want %+v", got, want)
	}
	if got := lookupsText(respLookups{hit: 998, stale: 1, miss: 1, stored: 3}, true); got != "99.80 % / 1 / 1, 3" {
		t.Errorf("lookupsText = %q", got)
	}
	if got := lookupsText(respLookups{hit: 1}, false); got != "—" {
		t.Errorf("lookupsText after a failed scrape = %q", got)
	}
}

func TestWarmKeptReadsUntilEveryAnswerIsKept(t *testing.T) {
	var mu sync.Mutex
	reads := map[string]int{}
	// u2 is kept from its third read on, the others from their second.
	read := func(uid string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		reads[uid]++
		return reads[uid] >= 2 && (uid != "u2" || reads[uid] >= 3), nil
	}
	passes, warmed, err := warmKept(read, []string{"u1", "u2", "u3"}, time.Minute)
	if err != nil || passes != 3 || !warmed {
		t.Fatalf("warmKept = %d, %v, %v; want 3 passes, all kept", passes, warmed, err)
	}
	if reads["u1"] != 3 || reads["u2"] != 3 {
		t.Errorf("reads %v, want every user read once per pass", reads)
	}
	never := func(string) (bool, error) { return false, nil }
	// A bound already passed: one pass, then it gives up.
	if passes, warmed, err := warmKept(never, []string{"u1"}, 0); err != nil || passes != 1 || warmed {
		t.Errorf("a cache that keeps nothing: %d, %v, %v; want 1 pass, not warm, no error", passes, warmed, err)
	}
	boom := errors.New("boom")
	if _, _, err := warmKept(func(string) (bool, error) { return false, boom }, []string{"u1"}, time.Minute); !errors.Is(err, boom) {
		t.Errorf("a failing read: %v, want boom", err)
	}
}

// keptRead tells the gateway's hit from its stale answer and from the
// peer's kept one, and checks the whole answer.
func TestKeptRead(t *testing.T) {
	events := `[{"id":"e1","name":"a"},{"id":"e2","name":"a"},{"id":"e3","name":"a"},{"id":"e4","name":"a"},{"id":"e5","name":"a"},` +
		`{"id":"e6","name":"a"},{"id":"e7","name":"a"},{"id":"e8","name":"a"},{"id":"e9","name":"a"},{"id":"e10","name":"a"}]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid := strings.TrimPrefix(r.URL.Path, "/getEventsByUserId/")
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			uid = "gql-" + map[bool]string{true: "kept", false: "built"}[strings.Contains(string(b), `"u1"`)]
		}
		switch uid {
		case "hit":
			w.Header().Set("X-Cache", "hit")
		case "stale":
			w.Header().Set("X-Cache", "stale")
			w.Header().Set("Age", "7")
		case "short":
			_, _ = io.WriteString(w, `[]`)
			return
		case "gql-kept":
			w.Header()["age"] = []string{"1"} // as node writes it
		}
		if strings.HasPrefix(uid, "gql-") {
			_, _ = io.WriteString(w, `{"data":{"user":{"events":`+events+`}}}`)
			return
		}
		_, _ = io.WriteString(w, events)
	}))
	defer srv.Close()
	s := &stack{url: srv.URL, http: srv.Client()}
	rest, gql := s.keptRead(false), s.keptRead(true)
	for _, tc := range []struct {
		name    string
		read    func(string) (bool, error)
		uid     string
		kept    bool
		wantErr bool
	}{
		{"gateway hit", rest, "hit", true, false},
		{"gateway stale", rest, "stale", false, false},
		{"built now", rest, "fresh", false, false},
		{"short list", rest, "short", false, true},
		{"peer kept", gql, "u1", true, false},
		{"peer built", gql, "u2", false, false},
	} {
		kept, err := tc.read(tc.uid)
		if kept != tc.kept || (err != nil) != tc.wantErr {
			t.Errorf("%s: kept %v, err %v; want %v, error %v", tc.name, kept, err, tc.kept, tc.wantErr)
		}
	}
}
