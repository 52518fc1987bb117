package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

// The peers suite: the gateway side by side with an idiomatic Apollo
// Server peer (bench/peers/apollo), both in front of one in-process
// simulator with no delay and no dropped connections, reading a user with
// 10 events. The targets of a cell are interleaved round by round, so that
// whatever else the shared machine does falls on all of them alike.
const (
	peersEvents = 10
	// peersUsers are the generated users u1…uN. A distinct-user cell is
	// bounded to this many requests, so no user repeats within it: 20 s at
	// the best rate seen here. No more than that: the simulator's data lives
	// in the bench process, whose garbage collector scans it all the while
	// it generates the load (eventsim.MaxGeneratedEvents would allow 100000).
	peersUsers = 30000
	// peersCellMax bounds a same-user cell's requests, as elsewhere.
	peersCellMax = 500000
	// peersWarmFor is each target's warm-up before the first round (the
	// peer's JIT, both sides' connection pools).
	peersWarmFor = time.Second
	// peersCrossConcurrency is the level of the wrk cross-check and of the
	// upstream ceiling.
	peersCrossConcurrency = 32
	// peersSameUser is the user every same-user request reads.
	peersSameUser = "u1"
	// peersChecks is how many whole answers the Go reader checks before
	// each wrk cell.
	peersChecks = 20
)

// The targets, as the report names them.
const (
	tgtGraphQL = "gateway GraphQL"
	tgtREST    = "gateway REST"
	tgtApollo  = "Apollo Server peer"
	// tgtCached is the gateway with its entity cache but not its response
	// cache (RESPONSE_CACHE=off): what a repeated read costs when gqlgen
	// runs every time. The cached suite measures the defaults, both caches.
	tgtCached = "gateway GraphQL, entity cache only"
)

// The cases.
const (
	caseSame     = "same-user"
	caseDistinct = "distinct-user"
)

// peersCase is one row group: which users, which concurrency, which targets.
type peersCase struct {
	name        string
	concurrency int
	targets     []string
}

// peersCases are measured in this order each round; the per-request cost
// (CACHE=off) is the comparison, the cached row what the default gives.
var peersCases = []peersCase{
	{caseSame, 1, []string{tgtGraphQL, tgtREST, tgtApollo, tgtCached}},
	{caseSame, 32, []string{tgtGraphQL, tgtREST, tgtApollo, tgtCached}},
	{caseSame, 256, []string{tgtGraphQL, tgtREST, tgtApollo, tgtCached}},
	{caseDistinct, 32, []string{tgtGraphQL, tgtREST, tgtApollo}},
	{caseDistinct, 256, []string{tgtGraphQL, tgtREST, tgtApollo}},
}

// peersRun is one cell's figures in one round.
type peersRun struct {
	res      loadResult
	upstream int           // simulator calls, every route, during the cell
	rssMiB   float64       // the target process's peak RSS during the cell (or since it started: see peersResult.rssSince)
	cpu      time.Duration // the target process's CPU time (user and system) during the cell
}

// peersCell is every round of one case, concurrency and target.
type peersCell struct {
	kase        string
	concurrency int
	target      string
	runs        []peersRun
}

// median is the median over the rounds of f.
func (c *peersCell) median(f func(peersRun) float64) float64 {
	v := make([]float64, len(c.runs))
	for i, r := range c.runs {
		v[i] = f(r)
	}
	return medianFloat(v)
}

// rps, p50 and p99 are the medians over the rounds.
func (c *peersCell) rps() float64 { return c.median(func(r peersRun) float64 { return r.res.rps }) }
func (c *peersCell) p50() time.Duration {
	return time.Duration(c.median(func(r peersRun) float64 { return float64(r.res.p50) }))
}
func (c *peersCell) p99() time.Duration {
	return time.Duration(c.median(func(r peersRun) float64 { return float64(r.res.p99) }))
}

// callsPerRequest is upstream calls per request over all the cell's rounds.
func (c *peersCell) callsPerRequest() float64 {
	calls, reqs := 0, 0
	for _, r := range c.runs {
		calls += r.upstream
		reqs += r.res.requests
	}
	if reqs == 0 {
		return 0
	}
	return float64(calls) / float64(reqs)
}

// peakRSS is the median over the rounds of the cell's own peak: a process
// keeps what its heap grew to, so a later round starts higher.
func (c *peersCell) peakRSS() float64 { return c.median(func(r peersRun) float64 { return r.rssMiB }) }

// cpuPerRequest is the serving process's CPU time per request over all the
// cell's rounds.
func (c *peersCell) cpuPerRequest() time.Duration {
	var cpu time.Duration
	reqs := 0
	for _, r := range c.runs {
		cpu += r.cpu
		reqs += r.res.requests
	}
	if reqs == 0 {
		return 0
	}
	return cpu / time.Duration(reqs)
}

// cores is the serving process's median CPU time per second of the cell:
// how many cores it kept busy.
func (c *peersCell) cores() float64 {
	return c.median(func(r peersRun) float64 { return r.cpu.Seconds() * r.res.rps / float64(max(1, r.res.requests)) })
}

// sum adds f over the rounds.
func (c *peersCell) sum(f func(loadResult) int) int {
	n := 0
	for _, r := range c.runs {
		n += f(r.res)
	}
	return n
}

// crossRun is the Go closed loop and wrk on the same route, back to back.
type crossRun struct {
	route    string // one of crossRoutes
	goLoop   loadResult
	wrk      wrkRun
	wrkFirst bool
}

// peersResult is the peers suite's figures.
type peersResult struct {
	when         time.Time
	busy         string
	node, apollo string // versions
	wrk          string // wrk's path, or "" when the cross-check was skipped
	cells        []*peersCell
	ceiling      []loadResult // the simulator alone: getEventById at peersCrossConcurrency, one per round
	cross        []crossRun
	rssSince     string             // "" when each cell's peak is its own; otherwise why it is since the process started
	procPeak     map[string]float64 // each process's peak RSS over every cell, MiB, by procNames
	repeats      bool               // a distinct-user wrk cell made more requests than there are users
}

// cell is the cell of a case, concurrency and target, or nil.
func (p *peersResult) cell(kase string, c int, target string) *peersCell {
	for _, x := range p.cells {
		if x.kase == kase && x.concurrency == c && x.target == target {
			return x
		}
	}
	return nil
}

// rotated is ts starting at its k-th element (mod its length): the order of
// the targets in round k, so each goes first, last and between in turn.
func rotated(ts []string, k int) []string {
	if len(ts) == 0 {
		return nil
	}
	k %= len(ts)
	return append(slices.Clone(ts[k:]), ts[:k]...)
}

// peerTarget is a server under test, how one request reads a user (the
// Go reader, which checks the whole answer), and what wrk asks for.
type peerTarget struct {
	proc    *stack
	read    func(uid string) error
	graphql bool   // wrk: POST the query to path; else GET path+uid
	path    string // wrk
}

// procNames name the process serving each target, for the peak RSS line.
var procNames = map[string]string{
	tgtGraphQL: "gateway, `CACHE=off`",
	tgtREST:    "gateway, `CACHE=off`",
	tgtApollo:  "Apollo peer (node)",
	tgtCached:  "gateway, entity cache only",
}

// The cross-check's routes: the gateway's two on the CACHE=off server, and
// the peer's, to see whether the load generator changes the ratio.
const (
	crossREST   = "gateway REST"
	crossGQL    = "gateway GraphQL"
	crossApollo = "Apollo peer GraphQL"
)

var crossRoutes = []string{crossREST, crossGQL, crossApollo}

// peersSetUp starts what the suites beside the Apollo peer share: their
// result with the machine's facts, the peer installed, and a simulator of
// users × peersEvents with no delay and no failures. Close the simulator
// with closeSim.
func (r *report) peersSetUp(users int) (*peersResult, *eventsim.Server, error) {
	res := &peersResult{when: time.Now(), busy: cpuBusy(time.Second), wrk: wrkPath(), procPeak: map[string]float64{}}
	node, err := nodeVersion()
	if err != nil {
		return nil, nil, err
	}
	res.node = node
	dir := filepath.Join(r.opts.root, apolloDir)
	if err := installApollo(dir); err != nil {
		return nil, nil, err
	}
	res.apollo = apolloVersion(dir)
	fmt.Fprintf(os.Stderr, "seeding the simulator: %d users × %d events\n", users, peersEvents)
	sim, err := eventsim.Start(eventsim.Config{EventDelay: 0, NetworkErrorRate: 0, Users: users, EventsPerUser: peersEvents}, "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	return res, sim, nil
}

// closeSim stops a suite's simulator, waiting at most 5 s.
func closeSim(sim *eventsim.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sim.Close(ctx)
}

// peers is the peers suite.
func (r *report) peers(bin string) error {
	res, sim, err := r.peersSetUp(peersUsers)
	if err != nil {
		return err
	}
	defer closeSim(sim)
	conc := "UPSTREAM_MAX_CONCURRENCY=" + strconv.Itoa(r.opts.concurrency)
	off, err := startProcess(bin, sim.URL, conc, "CACHE=off")
	if err != nil {
		return fmt.Errorf("gateway CACHE=off: %w", err)
	}
	defer off.stop()
	on, err := startProcess(bin, sim.URL, conc, "RESPONSE_CACHE=off")
	if err != nil {
		return fmt.Errorf("gateway with its entity cache only: %w", err)
	}
	defer on.stop()
	apollo, err := startApollo(filepath.Join(r.opts.root, apolloDir), sim.URL)
	if err != nil {
		return err
	}
	defer stopBounded(apollo)
	targets := map[string]peerTarget{
		tgtGraphQL: {off, off.userEventsGraphQL("/graphql"), true, "/graphql"},
		tgtREST:    {off, off.userEventsREST, false, "/getEventsByUserId/"},
		tgtApollo:  {apollo, apollo.userEventsGraphQL("/graphql"), true, "/graphql"},
		tgtCached:  {on, on.userEventsGraphQL("/graphql"), true, "/graphql"},
	}
	for _, name := range []string{tgtGraphQL, tgtREST, tgtApollo, tgtCached} {
		if err := targets[name].read(peersSameUser); err != nil {
			return fmt.Errorf("%s: first read: %w", name, err)
		}
	}
	if err := resetPeakRSS(off.cmd.Process.Pid); err != nil {
		res.rssSince = fmt.Sprintf("peak RSS since each process started (resetting it per cell failed: %v)", err)
	}
	// Distinct users are taken in turn from a counter that starts past the
	// warm-up's and wraps at peersUsers; a cell never reads more than that.
	var next atomic.Int64
	distinct := func() string { return "u" + strconv.Itoa(1+int(next.Add(1)-1)%peersUsers) }
	for _, name := range []string{tgtGraphQL, tgtREST, tgtApollo, tgtCached} {
		t := targets[name]
		closedLoop(peersCrossConcurrency, peersWarmFor, peersCellMax, func() error { return t.read(distinct()) })
	}
	for _, pc := range peersCases {
		for _, t := range pc.targets {
			res.cells = append(res.cells, &peersCell{kase: pc.name, concurrency: pc.concurrency, target: t})
		}
	}
	r.peersRes = res
	for round := 0; round < r.opts.runs; round++ {
		for ci, pc := range peersCases {
			for _, name := range rotated(pc.targets, round+ci) {
				t := targets[name]
				pick, limit := func() string { return peersSameUser }, peersCellMax
				if pc.name == caseDistinct {
					pick, limit = distinct, peersUsers
				}
				var lr loadResult
				var checked loadResult
				if res.wrk != "" {
					// wrk sees statuses only: the Go reader checks a few
					// whole answers of the same kind first.
					checked = closedLoop(2, r.opts.loadFor, peersChecks, func() error { return t.read(pick()) })
				}
				if res.rssSince == "" {
					_ = resetPeakRSS(t.proc.cmd.Process.Pid)
				}
				sim.ResetStats()
				cpu0 := procCPU(t.proc.cmd.Process.Pid)
				if res.wrk != "" {
					wt := wrkTarget{graphql: t.graphql, path: t.path, distinct: pc.name == caseDistinct, start: int(next.Load())}
					wr, err := runWrk(t.proc.url+"/", pc.concurrency, r.opts.loadFor, wrkReadScript(wt, wrkThreads(pc.concurrency)))
					if err != nil {
						return fmt.Errorf("%s, round %d %s c=%d: %w", name, round+1, pc.name, pc.concurrency, err)
					}
					if wt.distinct {
						next.Add(int64(wr.requests))
						if wr.requests > peersUsers {
							res.repeats = true
						}
					}
					lr = loadResult{concurrency: pc.concurrency, requests: wr.requests, failures: wr.failures + checked.failures,
						rps: wr.rps, p50: wr.p50, p99: wr.p99}
				} else {
					lr = closedLoop(pc.concurrency, r.opts.loadFor, limit, func() error { return t.read(pick()) })
				}
				run := peersRun{res: lr, upstream: upstreamCalls(sim), rssMiB: t.proc.peakRSS(), cpu: procCPU(t.proc.cmd.Process.Pid) - cpu0}
				res.procPeak[procNames[name]] = max(res.procPeak[procNames[name]], run.rssMiB)
				if err := procGone(t.proc.cmd.Process.Pid); err != nil {
					return fmt.Errorf("%s, round %d %s c=%d: %w (%d of %d requests failed); nothing was written",
						name, round+1, pc.name, pc.concurrency, err, lr.failures, lr.requests)
				}
				cell := res.cell(pc.name, pc.concurrency, name)
				cell.runs = append(cell.runs, run)
				fmt.Fprintf(os.Stderr, "round %d %s c=%d %s: %d reqs (%d failed) %.0f req/s p50 %v p99 %v, %.2f upstream calls/req, peak RSS %.1f MiB\n",
					round+1, pc.name, pc.concurrency, name, lr.requests, lr.failures, lr.rps, lr.p50, lr.p99,
					float64(run.upstream)/float64(max(1, lr.requests)), run.rssMiB)
			}
		}
		c, err := upstreamCeiling(sim, r.opts.loadFor, res.wrk != "")
		if err != nil {
			return err
		}
		res.ceiling = append(res.ceiling, c)
		fmt.Fprintf(os.Stderr, "round %d upstream alone: getEventById c=%d %.0f req/s (%d failed)\n", round+1, c.concurrency, c.rps, c.failures)
		if res.wrk != "" {
			for _, route := range crossRoutes {
				st := off
				if route == crossApollo {
					st = apollo
				}
				cr, err := crossCheck(st, route, r.opts.loadFor, round%2 == 1)
				if err != nil {
					return err
				}
				res.cross = append(res.cross, cr)
				fmt.Fprintf(os.Stderr, "round %d cross-check %s c=%d: Go %.0f req/s p99 %v, wrk %.0f req/s p99 %v (%d failed)\n",
					round+1, route, peersCrossConcurrency, cr.goLoop.rps, cr.goLoop.p99, cr.wrk.rps, cr.wrk.p99, cr.wrk.failures)
			}
		}
	}
	fmt.Fprint(os.Stderr, r.peersMarkdown())
	return nil
}

// upstreamCeiling is what the simulator alone serves of GET /getEventById
// under the same load generator (wrk if installed, else the Go closed loop)
// at peersCrossConcurrency: the most event lookups any gateway in front of
// it could get, on this machine.
func upstreamCeiling(sim *eventsim.Server, d time.Duration, useWrk bool) (loadResult, error) {
	if useWrk {
		wr, err := runWrk(sim.URL+"/", peersCrossConcurrency, d, wrkEventScript(wrkThreads(peersCrossConcurrency)))
		if err != nil {
			return loadResult{}, fmt.Errorf("upstream ceiling: %w", err)
		}
		return loadResult{concurrency: peersCrossConcurrency, requests: wr.requests, failures: wr.failures, rps: wr.rps, p50: wr.p50, p99: wr.p99}, nil
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: time.Minute}
	var next atomic.Int64
	lr := closedLoop(peersCrossConcurrency, d, peersCellMax, func() error {
		n := int(next.Add(1) - 1)
		id := fmt.Sprintf("u%d-e%d", 1+(n/peersEvents)%peersUsers, 1+n%peersEvents)
		resp, err := hc.Get(sim.URL + "/getEventById/" + id)
		if err != nil {
			return err
		}
		var e eventsim.Event
		if err := decodeJSON(resp, &e); err != nil {
			return err
		}
		if e.ID != id {
			return fmt.Errorf("getEventById/%s answered %q", id, e.ID)
		}
		return nil
	})
	return lr, nil
}

// crossCheck measures the same-user read on route of st with the Go closed
// loop and with wrk, back to back (wrk first if wrkFirst).
func crossCheck(st *stack, route string, d time.Duration, wrkFirst bool) (crossRun, error) {
	cr := crossRun{route: route, wrkFirst: wrkFirst}
	read, url, script := st.userEventsREST, st.url+"/getEventsByUserId/"+peersSameUser, ""
	if route != crossREST {
		read, url, script = st.userEventsGraphQL("/graphql"), st.url+"/graphql", wrkGraphQLScript(peersSameUser)
	}
	goLoop := func() error {
		cr.goLoop = closedLoop(peersCrossConcurrency, d, peersCellMax, func() error { return read(peersSameUser) })
		return nil
	}
	wrk := func() (err error) {
		cr.wrk, err = runWrk(url, peersCrossConcurrency, d, script)
		return err
	}
	steps := []func() error{goLoop, wrk}
	if wrkFirst {
		slices.Reverse(steps)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return cr, fmt.Errorf("cross-check %s: %w", route, err)
		}
	}
	return cr, nil
}

// userEventsBody is the GraphQL request body reading uid's events.
func userEventsBody(uid string) string {
	return `{"query":` + strconv.Quote(userEventsQuery) + `,"variables":{"id":` + strconv.Quote(uid) + `}}`
}

// userEventsGraphQL returns a read of a user's events by POST to path: ok
// only with a 200, no errors and the user's 10 named events.
func (s *stack) userEventsGraphQL(path string) func(uid string) error {
	return func(uid string) error {
		resp, err := s.http.Post(s.url+path, "application/json", strings.NewReader(userEventsBody(uid)))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out userEventsAnswer
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return fmt.Errorf("status %d: decode: %w", resp.StatusCode, err)
		}
		switch {
		case len(out.Errors) > 0:
			return fmt.Errorf("status %d, GraphQL error %s", resp.StatusCode, out.Errors[0])
		case resp.StatusCode != http.StatusOK || out.Data.User == nil || !fullList(out.Data.User.Events):
			return fmt.Errorf("status %d without user %s's %d events", resp.StatusCode, uid, peersEvents)
		}
		return nil
	}
}

// userEventsREST reads a user's events from GET /getEventsByUserId/:id: ok
// only with a 200 and the user's 10 named events.
func (s *stack) userEventsREST(uid string) error {
	resp, err := s.http.Get(s.url + "/getEventsByUserId/" + uid)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("status %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var es []namedEvent
	if err := json.NewDecoder(resp.Body).Decode(&es); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if !fullList(es) {
		return fmt.Errorf("%d events for user %s, want %d named ones", len(es), uid, peersEvents)
	}
	return nil
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go runs the bench on.
const clockTick = 10 * time.Millisecond

// procCPU is a process's CPU time so far (user and system), or 0.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	ticks, err := statCPUTicks(string(b))
	if err != nil {
		return 0
	}
	return time.Duration(ticks) * clockTick
}

// statCPUTicks is utime + stime from a /proc/<pid>/stat line, fields 14
// and 15; the command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last ')'.
func statCPUTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in /proc stat %q", truncate(stat, 80))
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat has %d fields after the name, want 13 or more", len(f))
	}
	var total int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat CPU time %q: %w", v, err)
		}
		total += n
	}
	return total, nil
}

// procGone is an error if the process has exited: it died, or something
// outside the bench ended it, and a cell's figures would be of failures.
// A zombie counts (it is the bench's child, not yet waited for).
func procGone(pid int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return fmt.Errorf("process %d is gone", pid)
	}
	if statState(string(b)) == "Z" {
		return fmt.Errorf("process %d has exited", pid)
	}
	return nil
}

// statState is the state letter of a /proc/<pid>/stat line (field 3), or "".
func statState(stat string) string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(stat[i+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// resetPeakRSS restarts a process's VmHWM from its current RSS (Linux's
// clear_refs "5"), so that a cell's peak is its own.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
