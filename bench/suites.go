package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

const userEventsQuery = `query UserEvents($id: ID!) { user(id: $id) { events { id name } } }`

// latencyRow is one N of the latency suite.
type latencyRow struct {
	n                    int
	graphql, rest        time.Duration
	sequential           time.Duration // 0: not timed
	upstreamPerQuery     int
	peakInFlight         int
	graphqlRuns, restRun []time.Duration
}

// latency is the latency suite: a user's events at the original 500 ms
// delay, ours against the original's sequential N+1 loop, on the same
// simulator.
func (r *report) latency(bin string) error {
	ns := []int{1, 10, 50, 200, 1000}
	st, err := start(bin, eventsim.Config{EventDelay: 500 * time.Millisecond, Users: 1, EventsPerUser: 1000},
		"UPSTREAM_MAX_CONCURRENCY="+strconv.Itoa(r.opts.concurrency))
	if err != nil {
		return err
	}
	defer st.stop()
	for _, n := range ns {
		ids := make([]string, n)
		for j := range ids {
			ids[j] = fmt.Sprintf("u1-e%d", j+1)
		}
		uid := fmt.Sprintf("n%d", n)
		st.sim.PutUser(eventsim.User{ID: uid, UserName: uid, Events: ids})
		row := latencyRow{n: n}
		st.sim.ResetStats()
		for i := 0; i < r.opts.runs; i++ {
			d, err := timed(func() error { _, err := st.gql(userEventsQuery, map[string]any{"id": uid}); return err })
			if err != nil {
				return err
			}
			row.graphqlRuns = append(row.graphqlRuns, d)
		}
		row.upstreamPerQuery = (st.sim.Count(eventsim.RouteGetEventByID) + st.sim.Count(eventsim.RouteGetUserByID)) / r.opts.runs
		row.peakInFlight = st.sim.PeakInFlight(eventsim.RouteGetEventByID)
		for i := 0; i < r.opts.runs; i++ {
			d, err := timed(func() error {
				status, err := st.getStatus("/getEventsByUserId/" + uid)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				return err
			})
			if err != nil {
				return err
			}
			row.restRun = append(row.restRun, d)
		}
		row.graphql, row.rest = median(row.graphqlRuns), median(row.restRun)
		if n <= r.opts.seqMax {
			row.sequential, err = timed(func() error { return sequentialLoop(st.sim.URL, uid) })
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "N=%d graphql %v rest %v sequential %v\n", n, row.graphql, row.rest, row.sequential)
		r.latencyRows = append(r.latencyRows, row)
	}
	return nil
}

// sequentialLoop is what the original service did: fetch the user, then
// each event one after the other.
func sequentialLoop(simURL, uid string) error {
	resp, err := http.Get(simURL + "/getUserById/" + uid)
	if err != nil {
		return err
	}
	var u eventsim.User
	err = decodeJSON(resp, &u)
	if err != nil {
		return err
	}
	for _, id := range u.Events {
		resp, err := http.Get(simURL + "/getEventById/" + id)
		if err != nil {
			return err
		}
		var e eventsim.Event
		if err := decodeJSON(resp, &e); err != nil {
			return err
		}
	}
	return nil
}

// throughput is the throughput suite: the same query and the REST route
// with no upstream delay, closed-loop at several concurrencies.
func (r *report) throughput(bin string) error {
	st, err := start(bin, eventsim.Config{Users: 1, EventsPerUser: 10})
	if err != nil {
		return err
	}
	defer st.stop()
	for _, c := range []int{1, 32, 256} {
		res := closedLoop(c, r.opts.loadFor, 500000, func() error {
			_, err := st.gql(userEventsQuery, map[string]any{"id": "u1"})
			return err
		})
		fmt.Fprintf(os.Stderr, "graphql c=%d %.0f req/s p50 %v p99 %v\n", c, res.rps, res.p50, res.p99)
		r.gqlLoad = append(r.gqlLoad, res)
		res = closedLoop(c, r.opts.loadFor, 500000, func() error {
			status, err := st.getStatus("/getEventsByUserId/u1")
			if err == nil && status != 200 {
				err = fmt.Errorf("status %d", status)
			}
			return err
		})
		fmt.Fprintf(os.Stderr, "rest c=%d %.0f req/s p50 %v p99 %v\n", c, res.rps, res.p50, res.p99)
		r.restLoad = append(r.restLoad, res)
	}
	r.peakRSSMiB = st.peakRSS()
	return nil
}

// dedupRow is the dedup suite under one sharing setting.
type dedupRow struct {
	window              string
	userCalls, evtCalls int
}

// dedup is the dedup suite: 100 identical queries at once. Today only calls
// in flight together are shared; the entity cache will add a row.
func (r *report) dedup(bin string) error {
	for _, window := range []string{"in flight only", "entity cache"} {
		row, err := dedupBurst(bin, window)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d getUserById, %d getEventById\n", window, row.userCalls, row.evtCalls)
		r.dedupRows = append(r.dedupRows, row)
	}
	return nil
}

func dedupBurst(bin, window string) (dedupRow, error) {
	row := dedupRow{window: window}
	env := []string{}
	if window == "entity cache" {
		env = append(env, "CACHE=on")
	}
	st, err := start(bin, eventsim.Config{EventDelay: 500 * time.Millisecond}, env...)
	if err != nil {
		return row, err
	}
	defer st.stop()
	// Open the 100 connections first, so the burst is one burst and not a
	// queue of TCP handshakes.
	var warm sync.WaitGroup
	for i := 0; i < 100; i++ {
		warm.Add(1)
		go func() { defer warm.Done(); _, _ = st.getStatus("/healthz") }()
	}
	warm.Wait()
	var wg sync.WaitGroup
	gate := make(chan struct{})
	var failed sync.Map
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			if _, err := st.gql(userEventsQuery, map[string]any{"id": "1"}); err != nil {
				failed.Store(i, err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	var firstErr error
	failed.Range(func(_, v any) bool { firstErr = v.(error); return false })
	row.userCalls = st.sim.Count(eventsim.RouteGetUserByID)
	row.evtCalls = st.sim.Count(eventsim.RouteGetEventByID)
	return row, firstErr
}

// cycle is the cycle suite: addEvent at 10 requests/s through the failure
// cycle.
func (r *report) cycle(bin string) error {
	cfg := eventsim.Defaults()
	cfg.EventDelay = 0
	st, err := start(bin, cfg)
	if err != nil {
		return err
	}
	defer st.stop()
	r.cycleOutcomes = map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(r.opts.cycleFor)
	for time.Now().Before(end) {
		<-tick.C
		wg.Add(1)
		r.cycleSent++
		go func() {
			defer wg.Done()
			out, err := st.gql(`mutation { addEvent(input: {name: "bench", userId: "1"}) {
				__typename ... on ServiceUnavailable { circuitState } } }`, nil)
			key := "transport error"
			if err == nil {
				res := out["data"].(map[string]any)["addEvent"].(map[string]any)
				key = res["__typename"].(string)
				if s, ok := res["circuitState"]; ok {
					key += " (" + s.(string) + ")"
				}
			}
			mu.Lock()
			r.cycleOutcomes[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.cycleUpstream = st.sim.Count(eventsim.RouteAddEvent)
	return nil
}

// drops is the drops suite: GET /getUsers 1000 times at the 5 % drop rate.
func (r *report) drops(bin string) error {
	st, err := start(bin, eventsim.Defaults())
	if err != nil {
		return err
	}
	defer st.stop()
	for i := 0; i < 1000; i++ {
		status, err := st.getStatus("/getUsers")
		if err != nil || status != 200 {
			r.dropFailures++
		}
	}
	r.dropAttempts = st.sim.Count(eventsim.RouteGetUsers)
	return nil
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return errors.New(resp.Status)
	}
	return jsonDecode(resp, v)
}

// micro runs the Go micro-benchmarks of the hot paths: breaker admit/record,
// loader batch dispatch, upstream client decode, whole requests in process.
func (r *report) micro() error {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1",
		"./internal/upstream/breaker", "./internal/eventsvc/loader", "./internal/upstream/eventapi", "./graph", "./internal/rest")
	cmd.Dir = r.opts.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Benchmark") {
			r.micros = append(r.micros, line)
		}
	}
	return nil
}
