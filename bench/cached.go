package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The cached suite: repeated reads of a user with 10 events answered from
// kept whole answers (issue 26), the gateway with its defaults (CACHE=on,
// RESPONSE_CACHE=on) on both doors beside the Apollo peer with its response
// cache plugin. It is a suite of its own, not cases of the peers suite,
// because it needs other processes (the gateway's defaults, the peer with
// its cache) and its own warm-up, and so that it runs alone in a few
// minutes. Cells, rounds, interleaving and wrk are the peers suite's.
const (
	// cachedUsers are the simulator's users u1…uN: the rotating case reads
	// every one of them in turn, each warm before the cell begins.
	cachedUsers = 1000
	// cachedPeerMaxAge is the Apollo peer's defaultMaxAge, in seconds: the
	// gateway's CACHE_FRESH_TTL default, so both keep an answer as long.
	cachedPeerMaxAge = 5
	// cachedWarmFor bounds the warm-up: passes over the case's users until
	// one finds every answer kept. After the other targets' cells the
	// gateway's 1000 answers are stale all at once, and refreshing them
	// takes seconds, so a few passes are not enough.
	cachedWarmFor = 30 * time.Second
	// cachedWarmPause is the pause between two warm-up passes, for the
	// refreshes the last one started.
	cachedWarmPause = 100 * time.Millisecond
	// cachedWarmConcurrency is the warm-up's readers.
	cachedWarmConcurrency = 8
)

// The cached suite's targets, as its report names them.
const (
	tgtKeptGraphQL   = "gateway GraphQL"
	tgtKeptREST      = "gateway REST"
	tgtKeptApollo    = "Apollo peer, response cache"
	tgtEntityGraphQL = "gateway GraphQL, `RESPONSE_CACHE=off`"
	tgtEntityREST    = "gateway REST, `RESPONSE_CACHE=off`"
)

// The cached suite's cases: one user read over and over, or cachedUsers
// users read in turn.
const (
	caseKeptSame     = "same user"
	caseKeptRotating = "1000 warm users rotating"
)

// cachedCases are measured in this order each round. The same-user cell at
// c=32 is the done-when; there, the gateway without its response
// cache (its entity cache still on) is the "before".
var cachedCases = []peersCase{
	{caseKeptSame, 32, []string{tgtKeptGraphQL, tgtKeptREST, tgtKeptApollo, tgtEntityGraphQL, tgtEntityREST}},
	{caseKeptSame, 256, []string{tgtKeptGraphQL, tgtKeptREST, tgtKeptApollo}},
	{caseKeptRotating, 32, []string{tgtKeptGraphQL, tgtKeptREST, tgtKeptApollo}},
	{caseKeptRotating, 256, []string{tgtKeptGraphQL, tgtKeptREST, tgtKeptApollo}},
}

// cachedProcNames name the process serving each target.
var cachedProcNames = map[string]string{
	tgtKeptGraphQL:   "gateway, defaults",
	tgtKeptREST:      "gateway, defaults",
	tgtKeptApollo:    "Apollo peer (node), response cache",
	tgtEntityGraphQL: "gateway, `RESPONSE_CACHE=off`",
	tgtEntityREST:    "gateway, `RESPONSE_CACHE=off`",
}

// respLookups is the gateway's gateway_response_cache_lookups_total by
// result over a cell.
type respLookups struct {
	hit, stale, miss, stored float64
}

// add is l + o.
func (l respLookups) add(o respLookups) respLookups {
	return respLookups{l.hit + o.hit, l.stale + o.stale, l.miss + o.miss, l.stored + o.stored}
}

// lookupsOf reads the counters from a scrape.
func lookupsOf(m promSamples) respLookups {
	v := func(result string) float64 {
		return m[`gateway_response_cache_lookups_total{result="`+result+`"}`]
	}
	return respLookups{v("hit"), v("stale"), v("miss"), v("stored")}
}

// cachedRun is what the cached suite records of a cell beside peersRun.
type cachedRun struct {
	kept      int           // answers wrk saw come from a cache
	lookups   respLookups   // the gateway's own count (zero for the peer)
	warmPass  int           // warm-up passes (0: none, the target keeps no answers)
	warmed    bool          // the last pass found every answer kept
	warmTook  time.Duration // how long the warm-up took
	scrapeErr string
}

// cachedResult is the cached suite's figures: the peers suite's cells, and
// per cell and round what cachedRun records, in the same order.
type cachedResult struct {
	peers  *peersResult
	extra  map[*peersCell][]cachedRun
	maxAge int
	plugin string // @apollo/server-plugin-response-cache's installed version
}

// keptTarget is a server under test and a read that says whether the
// answer came from a cache.
type keptTarget struct {
	peerTarget
	readKept func(uid string) (bool, error)
	gateway  bool // scrape its /metrics around each cell
	keeps    bool // it keeps answers: warm them before each cell
}

// cachedSuite is the cached suite.
func (r *report) cachedSuite(bin string) error {
	res, sim, err := r.peersSetUp(cachedUsers)
	if err != nil {
		return err
	}
	defer closeSim(sim)
	dir := filepath.Join(r.opts.root, apolloDir) // where peersSetUp installed the peer
	conc := "UPSTREAM_MAX_CONCURRENCY=" + strconv.Itoa(r.opts.concurrency)
	defaults, err := startProcess(bin, sim.URL, conc)
	if err != nil {
		return fmt.Errorf("gateway with its defaults: %w", err)
	}
	defer defaults.stop()
	entity, err := startProcess(bin, sim.URL, conc, "RESPONSE_CACHE=off")
	if err != nil {
		return fmt.Errorf("gateway, RESPONSE_CACHE=off: %w", err)
	}
	defer entity.stop()
	apollo, err := startApolloEnv(dir, sim.URL, "RESPONSE_CACHE_MAX_AGE="+strconv.Itoa(cachedPeerMaxAge))
	if err != nil {
		return err
	}
	defer stopBounded(apollo)
	targets := map[string]keptTarget{
		tgtKeptGraphQL:   {peerTarget{defaults, defaults.userEventsGraphQL("/graphql"), true, "/graphql"}, defaults.keptRead(true), true, true},
		tgtKeptREST:      {peerTarget{defaults, defaults.userEventsREST, false, "/getEventsByUserId/"}, defaults.keptRead(false), true, true},
		tgtKeptApollo:    {peerTarget{apollo, apollo.userEventsGraphQL("/graphql"), true, "/graphql"}, apollo.keptRead(true), false, true},
		tgtEntityGraphQL: {peerTarget{entity, entity.userEventsGraphQL("/graphql"), true, "/graphql"}, entity.keptRead(true), false, false},
		tgtEntityREST:    {peerTarget{entity, entity.userEventsREST, false, "/getEventsByUserId/"}, entity.keptRead(false), false, false},
	}
	for name, t := range targets {
		if err := t.read(peersSameUser); err != nil {
			return fmt.Errorf("%s: first read: %w", name, err)
		}
	}
	if err := resetPeakRSS(defaults.cmd.Process.Pid); err != nil {
		res.rssSince = fmt.Sprintf("peak RSS since each process started (resetting it per cell failed: %v)", err)
	}
	// Warm each target's JIT and connection pools over every user.
	var next atomic.Int64
	rotating := func() string { return "u" + strconv.Itoa(1+int(next.Add(1)-1)%cachedUsers) }
	for _, name := range []string{tgtKeptGraphQL, tgtKeptREST, tgtKeptApollo, tgtEntityGraphQL, tgtEntityREST} {
		t := targets[name]
		closedLoop(peersCrossConcurrency, peersWarmFor, peersCellMax, func() error { return t.read(rotating()) })
	}
	out := &cachedResult{peers: res, extra: map[*peersCell][]cachedRun{}, maxAge: cachedPeerMaxAge,
		plugin: npmVersion(dir, "@apollo/server-plugin-response-cache")}
	for _, pc := range cachedCases {
		for _, t := range pc.targets {
			res.cells = append(res.cells, &peersCell{kase: pc.name, concurrency: pc.concurrency, target: t})
		}
	}
	r.cachedRes = out
	allUsers := make([]string, cachedUsers)
	for i := range allUsers {
		allUsers[i] = "u" + strconv.Itoa(i+1)
	}
	for round := 0; round < r.opts.runs; round++ {
		for ci, pc := range cachedCases {
			for _, name := range rotated(pc.targets, round+ci) {
				t := targets[name]
				users, pick := []string{peersSameUser}, func() string { return peersSameUser }
				if pc.name == caseKeptRotating {
					users, pick = allUsers, rotating
				}
				var checked loadResult
				if res.wrk != "" {
					checked = closedLoop(2, r.opts.loadFor, peersChecks, func() error { return t.read(pick()) })
				}
				var cr cachedRun
				if t.keeps {
					start := time.Now()
					passes, warmed, err := warmKept(t.readKept, users, cachedWarmFor)
					if err != nil {
						return fmt.Errorf("%s, round %d %s c=%d: warm-up: %w", name, round+1, pc.name, pc.concurrency, err)
					}
					cr.warmPass, cr.warmed, cr.warmTook = passes, warmed, time.Since(start)
				}
				if res.rssSince == "" {
					_ = resetPeakRSS(t.proc.cmd.Process.Pid)
				}
				var before promSamples
				var scrapeErr error
				if t.gateway {
					before, scrapeErr = t.proc.metrics()
				}
				sim.ResetStats()
				cpu0 := procCPU(t.proc.cmd.Process.Pid)
				var lr loadResult
				kept := 0
				if res.wrk != "" {
					wt := wrkTarget{graphql: t.graphql, path: t.path, distinct: pc.name == caseKeptRotating, start: int(next.Load()), users: cachedUsers}
					wr, err := runWrk(t.proc.url+"/", pc.concurrency, r.opts.loadFor, wrkReadScript(wt, wrkThreads(pc.concurrency)))
					if err != nil {
						return fmt.Errorf("%s, round %d %s c=%d: %w", name, round+1, pc.name, pc.concurrency, err)
					}
					if wt.distinct {
						next.Add(int64(wr.requests))
					}
					kept = wr.kept
					lr = loadResult{concurrency: pc.concurrency, requests: wr.requests, failures: wr.failures + checked.failures,
						rps: wr.rps, p50: wr.p50, p99: wr.p99}
				} else {
					var n atomic.Int64
					lr = closedLoop(pc.concurrency, r.opts.loadFor, peersCellMax, func() error {
						k, err := t.readKept(pick())
						if k {
							n.Add(1)
						}
						return err
					})
					kept = int(n.Load())
				}
				run := peersRun{res: lr, upstream: upstreamCalls(sim), rssMiB: t.proc.peakRSS(), cpu: procCPU(t.proc.cmd.Process.Pid) - cpu0}
				cr.kept = kept
				if t.gateway {
					after, err := t.proc.metrics()
					if scrapeErr == nil {
						scrapeErr = err
					}
					if scrapeErr == nil {
						a, b := lookupsOf(after), lookupsOf(before)
						cr.lookups = respLookups{a.hit - b.hit, a.stale - b.stale, a.miss - b.miss, a.stored - b.stored}
					} else {
						cr.scrapeErr = scrapeErr.Error()
					}
				}
				res.procPeak[cachedProcNames[name]] = max(res.procPeak[cachedProcNames[name]], run.rssMiB)
				if err := procGone(t.proc.cmd.Process.Pid); err != nil {
					return fmt.Errorf("%s, round %d %s c=%d: %w (%d of %d requests failed); nothing was written",
						name, round+1, pc.name, pc.concurrency, err, lr.failures, lr.requests)
				}
				cell := res.cell(pc.name, pc.concurrency, name)
				cell.runs = append(cell.runs, run)
				out.extra[cell] = append(out.extra[cell], cr)
				fmt.Fprintf(os.Stderr, "round %d %s c=%d %s: %d reqs (%d failed, %d kept) %.0f req/s p50 %v p99 %v, %.3f upstream calls/req, lookups %+v, warm in %d passes (all kept: %v) %v\n",
					round+1, pc.name, pc.concurrency, name, lr.requests, lr.failures, kept, lr.rps, lr.p50, lr.p99,
					float64(run.upstream)/float64(max(1, lr.requests)), cr.lookups, cr.warmPass, cr.warmed, cr.warmTook.Round(time.Millisecond))
			}
		}
	}
	fmt.Fprint(os.Stderr, r.cachedMarkdown())
	return nil
}

// warmKept reads every user with read, pass after pass, until a whole pass
// finds every answer kept or the bound d has passed (checked between
// passes); it returns the passes and whether the last found all kept (if
// not, the cell measures a cache that did not keep them all).
func warmKept(read func(uid string) (bool, error), users []string, d time.Duration) (int, bool, error) {
	deadline := time.Now().Add(d)
	for pass := 1; ; pass++ {
		if pass > 1 {
			time.Sleep(cachedWarmPause)
		}
		var notKept atomic.Int64
		var firstErr error
		var mu sync.Mutex
		work := make(chan string)
		var wg sync.WaitGroup
		for w := 0; w < min(cachedWarmConcurrency, len(users)); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for uid := range work {
					kept, err := read(uid)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("user %s: %w", uid, err)
						}
						mu.Unlock()
					}
					if !kept {
						notKept.Add(1)
					}
				}
			}()
		}
		for _, uid := range users {
			work <- uid
		}
		close(work)
		wg.Wait()
		if firstErr != nil {
			return pass, false, firstErr
		}
		if notKept.Load() == 0 {
			return pass, true, nil
		}
		if time.Now().After(deadline) {
			return pass, false, nil
		}
	}
}

// keptRead returns a read of a user's events (a GraphQL POST, else the REST
// GET) that checks the whole answer as userEventsGraphQL and userEventsREST
// do, and says whether a cache kept it: the gateway's X-Cache: hit, or the
// Apollo peer's age header (the gateway sends Age only with X-Cache: stale).
func (s *stack) keptRead(graphql bool) func(uid string) (bool, error) {
	return func(uid string) (bool, error) {
		var resp *http.Response
		var err error
		if graphql {
			resp, err = s.http.Post(s.url+"/graphql", "application/json", strings.NewReader(userEventsBody(uid)))
		} else {
			resp, err = s.http.Get(s.url + "/getEventsByUserId/" + uid)
		}
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		kept := resp.Header.Get("X-Cache") == "hit" || (resp.Header.Get("X-Cache") == "" && resp.Header.Get("Age") != "")
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return false, fmt.Errorf("status %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		}
		var es []namedEvent
		if graphql {
			var out userEventsAnswer
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				return false, fmt.Errorf("decode: %w", err)
			}
			if len(out.Errors) > 0 {
				return false, fmt.Errorf("GraphQL error %s", out.Errors[0])
			}
			if out.Data.User != nil {
				es = out.Data.User.Events
			}
		} else if err := json.NewDecoder(resp.Body).Decode(&es); err != nil {
			return false, fmt.Errorf("decode: %w", err)
		}
		if !fullList(es) {
			return false, fmt.Errorf("%d events for user %s, want %d named ones", len(es), uid, peersEvents)
		}
		return kept, nil
	}
}
