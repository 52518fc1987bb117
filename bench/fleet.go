package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

// The fleet suite: a fleet of 3 replicas sharing a private Redis, against the
// same 3 replicas without REDIS_URL, side by side, reading a user with 10
// events at 500 ms per event lookup (cacheQuery, cacheSimConfig).
const (
	fleetReplicas    = 3
	fleetColdReads   = 1000
	fleetConcurrency = 32
	// fleetPollEvery and fleetExpiryBound pace and bound the expiry probe.
	fleetPollEvery   = 50 * time.Millisecond
	fleetExpiryBound = 10 * time.Second
	// cacheFresh is the servers' CACHE_FRESH_TTL (the default).
	cacheFresh = 5 * time.Second
)

// fleetSettings are the two fleets compared, in the order reported.
var fleetSettings = []string{"on", "off"}

// fleetCell is one measurement of one fleet.
type fleetCell struct {
	res     loadResult
	stale   int            // answers marked stale
	calls   int            // simulator calls, every route
	byRoute map[string]int // simulator calls by route
	took    time.Duration
}

// fleetExpiry is what one fleet did when its entries turned stale: each
// replica read every fleetPollEvery until its answer was fresh again.
type fleetExpiry struct {
	toFresh    []time.Duration // per replica, fastest first; -1: not within fleetExpiryBound
	firstStale int             // replicas whose first read was marked stale (all, if the probe worked)
	calls      int
	byRoute    map[string]int
}

// fleetRun is one run of one fleet: new processes, cold caches.
type fleetRun struct {
	cold, load  fleetCell
	expiry      fleetExpiry
	redisErrors float64 // gateway_redis_errors_total over the replicas, at the end of the run
	refreshes   float64 // gateway_cache_refreshes_total over the replicas, during the load cell
}

// fleetResult is the fleet suite's figures.
type fleetResult struct {
	when         time.Time
	busy         string
	skipped      string // why the suite did not run, or ""
	redisVersion string
	redisAddr    string
	loadFor      time.Duration
	runs         map[string][]fleetRun
}

// errNoRedis skips the suite.
var errNoRedis = errors.New("redis-server is not on PATH")

// redisServer is a private redis-server, on loopback, without persistence.
type redisServer struct {
	cmd  *exec.Cmd
	dir  string
	addr string
}

func startRedis() (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedis
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-redis")
	if err != nil {
		return nil, err
	}
	rs := &redisServer{dir: dir, addr: "127.0.0.1:" + strconv.Itoa(port)}
	rs.cmd = exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := rs.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	for i := 0; i < 100; i++ { // bounded wait for PONG
		if rs.ping() == nil {
			return rs, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	err = rs.ping()
	rs.stop()
	return nil, fmt.Errorf("redis-server on %s did not answer PING: %w", rs.addr, err)
}

// ping sends an inline PING and expects +PONG.
func (rs *redisServer) ping() error {
	c, err := net.DialTimeout("tcp", rs.addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// stop ends the redis-server this bench started (by its pid) and removes
// its folder.
func (rs *redisServer) stop() {
	_ = rs.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = rs.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = rs.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(rs.dir)
}

// redisVersion is "v=…" of redis-server --version, or "".
func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return ""
}

// fleetStack is one simulator and the replicas in front of it.
type fleetStack struct {
	sim      *eventsim.Server
	replicas []*stack
	next     atomic.Uint64
}

func startFleet(bin string, cfg eventsim.Config, env ...string) (*fleetStack, error) {
	sim, err := eventsim.Start(cfg, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fleetStack{sim: sim}
	for i := 0; i < fleetReplicas; i++ {
		st, err := startProcess(bin, sim.URL, env...)
		if err != nil {
			f.stop()
			return nil, err
		}
		f.replicas = append(f.replicas, st)
	}
	return f, nil
}

func (f *fleetStack) stop() {
	for _, st := range f.replicas {
		st.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.sim.Close(ctx)
}

// read sends cacheQuery to the next replica, round-robin.
func (f *fleetStack) read() readOutcome {
	st := f.replicas[(f.next.Add(1)-1)%uint64(len(f.replicas))]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return st.readGraphQL(ctx)
}

// metricSum adds a metric over the replicas.
func (f *fleetStack) metricSum(name string) float64 {
	t := 0.0
	for _, st := range f.replicas {
		if m, err := st.metrics(); err == nil {
			t += m.sum(name)
		}
	}
	return t
}

// measure runs a closed loop of round-robin reads on the fleet and counts
// what reached its simulator.
func (f *fleetStack) measure(d time.Duration, maxReads int) fleetCell {
	f.sim.ResetStats()
	var stale atomic.Int64
	start := time.Now()
	res := closedLoop(fleetConcurrency, d, maxReads, func() error {
		o := f.read()
		if o.ok && o.stale {
			stale.Add(1)
		}
		return o.failure()
	})
	c := fleetCell{res: res, stale: int(stale.Load()), took: time.Since(start), byRoute: map[string]int{}}
	for route, n := range f.sim.Stats().Calls {
		c.byRoute[route] = n
		c.calls += n
	}
	return c
}

// expiry waits until the entries filled at filled are stale, then has
// each replica read every fleetPollEvery, one read at a time, until it
// answers fresh (the first read of each finds the entry stale and starts
// that replica's background refresh), and counts the upstream calls.
func (f *fleetStack) expiry(filled time.Time) fleetExpiry {
	time.Sleep(time.Until(filled.Add(cacheFresh + 300*time.Millisecond)))
	f.sim.ResetStats()
	start := time.Now()
	out := fleetExpiry{toFresh: make([]time.Duration, len(f.replicas)), byRoute: map[string]int{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, st := range f.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.toFresh[i] = -1
			tick := time.NewTicker(fleetPollEvery)
			defer tick.Stop()
			for first := true; time.Since(start) < fleetExpiryBound; <-tick.C {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				o := st.readGraphQL(ctx)
				cancel()
				if first && o.ok && o.stale {
					mu.Lock()
					out.firstStale++
					mu.Unlock()
				}
				first = false
				if o.ok && !o.stale {
					out.toFresh[i] = time.Since(start)
					return
				}
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(out.toFresh, func(a, b time.Duration) int {
		if a < 0 || b < 0 { // "never" last
			return int(b>>63) - int(a>>63)
		}
		return cmp.Compare(a, b)
	})
	for route, n := range f.sim.Stats().Calls {
		out.byRoute[route] = n
		out.calls += n
	}
	return out
}

// fleetSuite is the fleet suite.
func (r *report) fleetSuite(bin string) error {
	res := &fleetResult{when: time.Now(), loadFor: r.opts.fleetFor, runs: map[string][]fleetRun{}}
	r.fleetRes = res
	rs, err := startRedis()
	if errors.Is(err, errNoRedis) {
		res.skipped = "redis-server is not on PATH (install it, e.g. `apt-get install redis-server`, and run `go -C bench run . -suites fleet` again)"
		fmt.Fprintf(os.Stderr, "fleet suite SKIPPED: %s\n", res.skipped)
		return nil
	}
	if err != nil {
		return err
	}
	defer rs.stop()
	res.redisAddr, res.redisVersion = rs.addr, redisVersion()
	res.busy = cpuBusy(time.Second)
	cfg := r.cacheSimConfig()
	conc := "UPSTREAM_MAX_CONCURRENCY=" + strconv.Itoa(r.opts.concurrency)
	for run := 0; run < r.opts.runs; run++ {
		// New processes and a new key prefix each run: every run starts cold.
		fleets := map[string]*fleetStack{}
		stopAll := func() {
			for _, f := range fleets {
				f.stop()
			}
		}
		envs := map[string][]string{
			"on":  {conc, "REDIS_URL=redis://" + rs.addr + "/0", fmt.Sprintf("REDIS_KEY_PREFIX=bench%d-run%d:", os.Getpid(), run)},
			"off": {conc},
		}
		for _, set := range fleetSettings {
			f, err := startFleet(bin, cfg, envs[set]...)
			if err != nil {
				stopAll()
				return fmt.Errorf("start the Redis-%s fleet: %w", set, err)
			}
			fleets[set] = f
		}
		order := slices.Clone(fleetSettings)
		if run%2 == 1 { // alternate which fleet goes first
			slices.Reverse(order)
		}
		out := map[string]*fleetRun{"on": {}, "off": {}}
		filled := map[string]time.Time{}
		for _, set := range order {
			out[set].cold = fleets[set].measure(time.Minute, fleetColdReads)
			filled[set] = time.Now() // every entry was fetched before the last cold read answered
			c := out[set].cold
			fmt.Fprintf(os.Stderr, "run %d Redis %s cold: %d reads (%d failed) in %v, %d upstream calls %v\n",
				run+1, set, c.res.requests, c.res.failures, c.took.Round(time.Millisecond), c.calls, c.byRoute)
		}
		// Both fleets' probes at once: each has its own simulator.
		var probes sync.WaitGroup
		for _, set := range fleetSettings {
			probes.Add(1)
			go func() { defer probes.Done(); out[set].expiry = fleets[set].expiry(filled[set]) }()
		}
		probes.Wait()
		for _, set := range order {
			e := out[set].expiry
			fmt.Fprintf(os.Stderr, "run %d Redis %s expiry: %d of %d first reads stale, replicas fresh again after %v, %d upstream calls %v\n",
				run+1, set, e.firstStale, fleetReplicas, e.toFresh, e.calls, e.byRoute)
		}
		for _, set := range order {
			f := fleets[set]
			before := f.metricSum("gateway_cache_refreshes_total")
			out[set].load = f.measure(r.opts.fleetFor, 5000000)
			out[set].refreshes = f.metricSum("gateway_cache_refreshes_total") - before
			c := out[set].load
			fmt.Fprintf(os.Stderr, "run %d Redis %s load: %d reads (%d failed, %d stale) %.0f req/s p50 %v p99 %v, %d upstream calls %v (%.1f per 1000 reads), %.0f refreshes\n",
				run+1, set, c.res.requests, c.res.failures, c.stale, c.res.rps, c.res.p50, c.res.p99, c.calls, c.byRoute,
				perThousand(c.calls, c.res.requests), out[set].refreshes)
		}
		out["on"].redisErrors = fleets["on"].metricSum("gateway_redis_errors_total")
		stopAll()
		for _, set := range fleetSettings {
			res.runs[set] = append(res.runs[set], *out[set])
		}
	}
	fmt.Fprint(os.Stderr, r.fleetMarkdown())
	return nil
}

func medianFloat(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// fleetMarkdown is the fleet suite's section of RESULTS.md.
func (r *report) fleetMarkdown() string {
	res := r.fleetRes
	if res == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%sThree replicas with and without Redis at 500 ms per upstream lookup (user with 10 events)\n\n", suiteHeading("fleet"))
	if res.skipped != "" {
		fmt.Fprintf(&b, "%s: **not run**, %s.\n", r.measuredOn("fleet", res.when, ""), res.skipped)
		return b.String()
	}
	b.WriteString(r.measuredOn("fleet", res.when, res.busy))
	b.WriteString(".\n")
	nRuns := len(res.runs["on"])
	fmt.Fprintf(&b, "Two fleets side by side, each %d server processes in front of its own simulator (1 user, 10 events, 500 ms per "+
		"`getEventById`), default cache settings: one with `REDIS_URL` set to a private `redis-server` %s (on %s, `--save \"\" "+
		"--appendonly no`, a new `REDIS_KEY_PREFIX` each run), one without. Query `%s` over `POST /graphql`, sent round-robin "+
		"to the %d replicas, closed loop at concurrency %d. **%d runs**, each with new processes (cold caches): first %d reads "+
		"on each fleet (a), then the expiry probe (c), then each fleet loaded for %s (b); the fleets alternate which goes first. Upstream calls are the simulator's "+
		"own counts.\n\n", fleetReplicas, res.redisVersion, res.redisAddr, cacheQuery, fleetReplicas, fleetConcurrency, nRuns,
		fleetColdReads, res.loadFor)

	fmt.Fprintf(&b, "**(a) Upstream calls for %d identical reads from cold**\n\n", fleetColdReads)
	b.WriteString("| Redis | runs | reads (all runs) | failures | upstream calls per 1000 reads (median) | each run: `getUserById` + `getEventById` | wall time of the reads (median) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|---:|\n")
	for _, set := range fleetSettings {
		var per, took []float64
		var each []string
		reads, failures := 0, 0
		for _, run := range res.runs[set] {
			c := run.cold
			reads += c.res.requests
			failures += c.res.failures
			per = append(per, perThousand(c.calls, c.res.requests))
			took = append(took, float64(c.took))
			each = append(each, fmt.Sprintf("%d + %d", c.byRoute[eventsim.RouteGetUserByID], c.byRoute[eventsim.RouteGetEventByID]))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | **%.1f** | %s | %s |\n", set, len(res.runs[set]), reads, failures, medianFloat(per),
			strings.Join(each, ", "), ms(time.Duration(medianFloat(took))))
	}

	fmt.Fprintf(&b, "\n**(b) Throughput, %s per fleet and run, concurrency %d**\n\n", res.loadFor, fleetConcurrency)
	b.WriteString("| Redis | runs | reads (all runs) | failures | req/s (median) | p50 (median) | p99 (median) | upstream calls per 1000 reads | each run: `getUserById` + `getEventById` | background refreshes (all runs) | answers marked stale |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n")
	for _, set := range fleetSettings {
		var rps, p50, p99 []float64
		var each []string
		reads, failures, calls, stale := 0, 0, 0, 0
		refreshes := 0.0
		for _, run := range res.runs[set] {
			c := run.load
			reads += c.res.requests
			failures += c.res.failures
			calls += c.calls
			stale += c.stale
			refreshes += run.refreshes
			rps, p50, p99 = append(rps, c.res.rps), append(p50, float64(c.res.p50)), append(p99, float64(c.res.p99))
			each = append(each, fmt.Sprintf("%d + %d", c.byRoute[eventsim.RouteGetUserByID], c.byRoute[eventsim.RouteGetEventByID]))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | **%.0f** | %s | %s | %.2f | %s | %.0f | %s |\n", set, len(res.runs[set]), reads, failures,
			medianFloat(rps), msFine(time.Duration(medianFloat(p50))), msFine(time.Duration(medianFloat(p99))),
			perThousand(calls, reads), strings.Join(each, ", "), refreshes, pct(stale, reads))
	}
	b.WriteString("\nreq/s of each run, in run order:")
	for i, set := range fleetSettings {
		var each []string
		for _, run := range res.runs[set] {
			each = append(each, fmt.Sprintf("%.0f", run.load.res.rps))
		}
		sep := ","
		if i == len(fleetSettings)-1 {
			sep = "."
		}
		fmt.Fprintf(&b, " Redis %s %s%s", set, strings.Join(each, ", "), sep)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "\n**(c) When the entries turn stale** (each run, between (a) and (b): %s after the cold reads ended, every "+
		"replica of both fleets read every %s, one read at a time, until its answer was no longer marked stale; bound %s)\n\n",
		cacheFresh+300*time.Millisecond, fleetPollEvery, fleetExpiryBound)
	b.WriteString("| Redis | runs | first reads marked stale | replicas fresh again after: fastest, middle, slowest (median over the runs) | each run: `getUserById` + `getEventById` |\n")
	b.WriteString("|---|---:|---:|---|---|\n")
	for _, set := range fleetSettings {
		ranks := make([][]float64, fleetReplicas)
		var each []string
		firstStale := 0
		for _, run := range res.runs[set] {
			e := run.expiry
			firstStale += e.firstStale
			for i, d := range e.toFresh {
				if d < 0 {
					d = fleetExpiryBound // "never" counts as the bound
				}
				ranks[i] = append(ranks[i], d.Seconds())
			}
			each = append(each, fmt.Sprintf("%d + %d", e.byRoute[eventsim.RouteGetUserByID], e.byRoute[eventsim.RouteGetEventByID]))
		}
		var med []string
		for _, r := range ranks {
			med = append(med, fmt.Sprintf("%.2f s", medianFloat(r)))
		}
		fmt.Fprintf(&b, "| %s | %d | %d of %d | %s | %s |\n", set, len(res.runs[set]), firstStale, fleetReplicas*len(res.runs[set]),
			strings.Join(med, ", "), strings.Join(each, ", "))
	}
	redisErrs := 0.0
	for _, run := range res.runs["on"] {
		redisErrs += run.redisErrors
	}
	fmt.Fprintf(&b, "\n`gateway_redis_errors_total` over the Redis fleet's replicas, all runs: %.0f.\n", redisErrs)
	b.WriteString(fleetLegend)
	return b.String()
}

const fleetLegend = "\nHow to read it: a read of the user and its 10 events is 11 upstream calls when nothing is shared. " +
	"(a) Without Redis each replica fills its own entity cache, 11 calls per replica; with it, the first replica to miss a " +
	"key takes its fill lease and the others wait for the entry it stores in Redis, 11 calls for the fleet. (c) When the " +
	"entries turn stale (5 s after they were fetched) each replica answers from its stale entry and starts one background " +
	"refresh per key. Without Redis each refresh takes one 500 ms lookup. With Redis, a replica that does not win a key's " +
	"fill lease polls for the entry the winner stores, but through its own memory first (`entitycache.Tiered.Get` returns " +
	"the replica's own stale entry without asking Redis), so it never sees the fresh one: it gives up after " +
	"`CACHE_FILL_LEASE` (3 s) and fetches the key itself. Hence the same 33 calls as without Redis, and 3 s more of stale " +
	"answers on every replica that lost a lease for one of the 11 keys. (b) inherits both. The Redis fleet makes fewer " +
	"upstream calls per cell, but not by sharing them: a replica that loses a lease serves its stale entry through the 3 s " +
	"wait before it fetches, so its refresh cycle is about 8.5 s instead of 5.5 s (fewer refreshes, and the larger stale " +
	"share), and a refresh whose wait runs past the end of a cell is counted in its refreshes but not in its calls. With one " +
	"refresh for the whole fleet, a 10 s cell would cost about 2 × 11 calls. The gateways, both simulators, Redis and " +
	"the load generator share the same cores, as does any other work on the machine (see \"CPUs busy\" above); only one " +
	"fleet is loaded at a time.\n"
