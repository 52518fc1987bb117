package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

// The cache suite: the gateway with its entity cache on (the default) and with
// CACHE=off, side by side, in front of simulators that take 500 ms per event
// lookup, reading a user with 10 events.
const (
	cacheUser     = "u1"
	cacheEvents   = 10
	cacheQuery    = `{ user(id: "u1") { events { id name } } }`
	cacheRESTPath = "/getEventsByUserId/u1"
	// outageTick is how often each outage loop reads.
	outageTick = 50 * time.Millisecond
)

// cacheSettings are the two servers compared, in the order reported.
var cacheSettings = []string{"on", "off"}

// cacheConcurrencies are the closed-loop levels of the load part.
var cacheConcurrencies = []int{1, 32, 256}

// cacheRun is one closed-loop cell: one setting, one concurrency, one run.
type cacheRun struct {
	res      loadResult
	stale    int // answers marked stale (extensions.cache.stale)
	upstream int // simulator calls, every route, during the cell
}

// cacheCell is every run of one setting at one concurrency.
type cacheCell struct {
	setting     string
	concurrency int
	runs        []cacheRun
}

func (c cacheCell) medianOf(f func(cacheRun) float64) float64 {
	v := make([]float64, len(c.runs))
	for i, r := range c.runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (c cacheCell) sum(f func(cacheRun) int) int {
	n := 0
	for _, r := range c.runs {
		n += f(r)
	}
	return n
}

func perThousand(calls, reads int) float64 {
	if reads == 0 {
		return 0
	}
	return 1000 * float64(calls) / float64(reads)
}

// outageRoute is what one route of one server answered around an outage.
type outageRoute struct {
	setting, route string
	reads, ok      int           // during the outage; ok: 200 with the user's 10 events
	stale          int           // ok answers carrying the stale marker
	firstStale     time.Duration // after the simulator stopped; 0: none
	sinceFill      time.Duration // first stale answer, after the read that filled the cache
	after          int           // reads after the restart
	afterOK        int           // of which 200 with the data
	toFresh        time.Duration // restart → first fresh 200 read; -1: none within the bound
	firstErr       string        // the first failed read's outcome, for the report
}

// cacheResult is the cache suite's figures.
type cacheResult struct {
	when      time.Time
	busy      string // share of the CPUs busy in the second before the suite: other work on the machine
	cells     []*cacheCell
	outageFor time.Duration // asked for
	downFor   time.Duration // the simulators were down: outageFor and the last reads begun within it
	simAddrs  []string      // the simulators' addresses, the same before and after the restart
	restart   string        // "" or why the simulators could not be restarted on the same address
	outage    []*outageRoute
}

// readOutcome is one read of cacheQuery or cacheRESTPath.
type readOutcome struct {
	status int
	ok     bool // 200 with the user's 10 events and no error
	stale  bool // marked stale
	err    error
}

func (o readOutcome) failure() error {
	if o.ok {
		return nil
	}
	if o.err != nil {
		return o.err
	}
	return fmt.Errorf("status %d without the user's %d events", o.status, cacheEvents)
}

type namedEvent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// userEventsAnswer is a GraphQL answer to a read of a user's events.
type userEventsAnswer struct {
	Data struct {
		User *struct {
			Events []namedEvent `json:"events"`
		} `json:"user"`
	} `json:"data"`
	Errors     []json.RawMessage `json:"errors"`
	Extensions struct {
		Cache struct {
			Stale bool `json:"stale"`
		} `json:"cache"`
	} `json:"extensions"`
}

func fullList(es []namedEvent) bool {
	if len(es) != cacheEvents {
		return false
	}
	for _, e := range es {
		if e.ID == "" || e.Name == "" {
			return false
		}
	}
	return true
}

// readGraphQL posts cacheQuery.
func (s *stack) readGraphQL(ctx context.Context) readOutcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/graphql",
		strings.NewReader(`{"query":`+strconv.Quote(cacheQuery)+`}`))
	if err != nil {
		return readOutcome{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return readOutcome{err: err}
	}
	defer resp.Body.Close()
	var out userEventsAnswer
	o := readOutcome{status: resp.StatusCode}
	if o.err = json.NewDecoder(resp.Body).Decode(&out); o.err != nil {
		return o
	}
	if len(out.Errors) > 0 {
		o.err = fmt.Errorf("status %d, GraphQL error %s", resp.StatusCode, out.Errors[0])
		return o
	}
	o.ok = resp.StatusCode == http.StatusOK && out.Data.User != nil && fullList(out.Data.User.Events)
	o.stale = out.Extensions.Cache.Stale
	return o
}

// readREST gets cacheRESTPath.
func (s *stack) readREST(ctx context.Context) readOutcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+cacheRESTPath, nil)
	if err != nil {
		return readOutcome{err: err}
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return readOutcome{err: err}
	}
	defer resp.Body.Close()
	o := readOutcome{status: resp.StatusCode, stale: strings.HasPrefix(resp.Header.Get("Warning"), "110")}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		o.err = fmt.Errorf("status %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		return o
	}
	var es []namedEvent
	if o.err = json.NewDecoder(resp.Body).Decode(&es); o.err != nil {
		return o
	}
	o.ok = fullList(es)
	return o
}

// upstreamCalls is every call the simulator received since its last reset.
func upstreamCalls(sim *eventsim.Server) int {
	n := 0
	for _, c := range sim.Stats().Calls {
		n += c
	}
	return n
}

// cacheSuite is the cache suite.
func (r *report) cacheSuite(bin string) error {
	res := &cacheResult{when: time.Now(), outageFor: r.opts.outageFor, busy: cpuBusy(time.Second)}
	r.cache = res
	if err := r.cacheLoad(bin, res); err != nil {
		return err
	}
	if err := r.cacheOutage(bin, res); err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, r.cacheMarkdown())
	return nil
}

func (r *report) cacheSimConfig() eventsim.Config {
	return eventsim.Config{EventDelay: 500 * time.Millisecond, Users: 1, EventsPerUser: cacheEvents}
}

// startCachePair starts one server per setting, each with its own simulator.
func (r *report) startCachePair(bin string) (map[string]*stack, func(), error) {
	stacks := map[string]*stack{}
	stopAll := func() {
		for _, st := range stacks {
			st.stop()
		}
	}
	for _, set := range cacheSettings {
		st, err := start(bin, r.cacheSimConfig(), "UPSTREAM_MAX_CONCURRENCY="+strconv.Itoa(r.opts.concurrency), "CACHE="+set,
			"LOG_LEVEL=error") // the outage would log every failed read at warn
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		stacks[set] = st
	}
	return stacks, stopAll, nil
}

// cacheLoad is the load part: the same query, closed-loop, at each
// concurrency, the two settings interleaved, r.opts.runs runs of each cell.
func (r *report) cacheLoad(bin string, res *cacheResult) error {
	stacks, stopAll, err := r.startCachePair(bin)
	if err != nil {
		return err
	}
	defer stopAll()
	cells := map[string]*cacheCell{}
	for _, c := range cacheConcurrencies {
		for _, set := range cacheSettings {
			cell := &cacheCell{setting: set, concurrency: c}
			cells[set+strconv.Itoa(c)] = cell
			res.cells = append(res.cells, cell)
		}
	}
	// One read each first, so that every cell measures the steady state
	// rather than the cache's first fill; it also checks the query works.
	for _, set := range cacheSettings {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		o := stacks[set].readGraphQL(ctx)
		cancel()
		if err := o.failure(); err != nil {
			return fmt.Errorf("CACHE=%s warm-up read: %w", set, err)
		}
	}
	for run := 0; run < r.opts.runs; run++ {
		for ci, c := range cacheConcurrencies {
			order := slices.Clone(cacheSettings)
			if (run+ci)%2 == 1 { // alternate which setting goes first
				slices.Reverse(order)
			}
			for _, set := range order {
				st := stacks[set]
				st.sim.ResetStats()
				var stale atomic.Int64
				lr := closedLoop(c, r.opts.loadFor, 500000, func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					o := st.readGraphQL(ctx)
					if o.ok && o.stale {
						stale.Add(1)
					}
					return o.failure()
				})
				cr := cacheRun{res: lr, stale: int(stale.Load()), upstream: upstreamCalls(st.sim)}
				cells[set+strconv.Itoa(c)].runs = append(cells[set+strconv.Itoa(c)].runs, cr)
				fmt.Fprintf(os.Stderr, "run %d CACHE=%s c=%d: %d reads (%d failed, %d stale) %.0f req/s p50 %v p99 %v, %d upstream calls (%.1f per 1000 reads)\n",
					run+1, set, c, lr.requests, lr.failures, cr.stale, lr.rps, lr.p50, lr.p99, cr.upstream, perThousand(cr.upstream, lr.requests))
			}
		}
	}
	return nil
}

// cacheOutage is the outage part: fresh servers, one read of each route so
// the cache holds the answer, then both simulators closed for
// r.opts.outageFor while each route of each server is read every
// outageTick, then the simulators started again on the same addresses and
// the reads followed until they are fresh again.
func (r *report) cacheOutage(bin string, res *cacheResult) error {
	stacks, stopAll, err := r.startCachePair(bin)
	if err != nil {
		return err
	}
	defer stopAll()
	filled := map[string]time.Time{}
	for _, set := range cacheSettings {
		st := stacks[set]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		filled[set] = time.Now() // the user's entry is fetched within a millisecond of this
		g := st.readGraphQL(ctx)
		rest := st.readREST(ctx)
		cancel()
		if err := g.failure(); err != nil {
			return fmt.Errorf("CACHE=%s read before the outage: %w", set, err)
		}
		if err := rest.failure(); err != nil {
			return fmt.Errorf("CACHE=%s REST read before the outage: %w", set, err)
		}
	}
	addrs := map[string]string{}
	for _, set := range cacheSettings {
		st := stacks[set]
		addrs[set] = strings.TrimPrefix(st.sim.URL, "http://")
		res.simAddrs = append(res.simAddrs, addrs[set])
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := st.sim.Close(ctx)
		cancel()
		st.sim = nil // closed: stop must not close it again
		if err != nil {
			return fmt.Errorf("close the CACHE=%s simulator: %w", set, err)
		}
		if c, err := net.DialTimeout("tcp", addrs[set], time.Second); err == nil {
			c.Close()
			return fmt.Errorf("the CACHE=%s simulator at %s still accepts connections after Close", set, addrs[set])
		}
	}
	down := time.Now()
	fmt.Fprintf(os.Stderr, "simulators at %s closed (connections refused) for %s\n", strings.Join(res.simAddrs, ", "), r.opts.outageFor)

	type route struct {
		name string
		read func(*stack, context.Context) readOutcome
	}
	routes := []route{{"GraphQL", (*stack).readGraphQL}, {"REST", (*stack).readREST}}
	type loop struct {
		setting string
		run     func(restarted <-chan time.Time)
	}
	var loops []loop
	// outageReads ends when every loop's last read begun during the outage
	// has finished: the simulators start again only then, so that no read
	// counted as made during the outage was answered by a restarted one.
	var outageReads sync.WaitGroup
	for _, set := range cacheSettings {
		for _, rt := range routes {
			st, out := stacks[set], &outageRoute{setting: set, route: rt.name, toFresh: -1}
			res.outage = append(res.outage, out)
			outageReads.Add(1)
			loops = append(loops, loop{set, func(restarted <-chan time.Time) {
				read := func() readOutcome {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					return rt.read(st, ctx)
				}
				tick := time.NewTicker(outageTick)
				defer tick.Stop()
				// During the outage: until it ends, one read at a time.
				for end := down.Add(r.opts.outageFor); time.Now().Before(end); <-tick.C {
					o := read()
					out.reads++
					switch {
					case o.ok:
						out.ok++
						if o.stale {
							out.stale++
							if out.firstStale == 0 {
								out.firstStale, out.sinceFill = time.Since(down), time.Since(filled[set])
							}
						}
					case out.firstErr == "":
						out.firstErr = o.failure().Error()
					}
				}
				outageReads.Done()
				// After the restart: until the first fresh answer and 10
				// more reads, or 15 s.
				up, ok := <-restarted
				if !ok {
					return
				}
				extra := -1
				for end := up.Add(15 * time.Second); time.Now().Before(end) && extra != 0; <-tick.C {
					o := read()
					out.after++
					if o.ok {
						out.afterOK++
					}
					if o.ok && !o.stale && out.toFresh < 0 {
						out.toFresh = time.Since(up)
						extra = 11
					}
					if extra > 0 {
						extra--
					}
				}
			}})
		}
	}
	var wg sync.WaitGroup
	restarted := make([]chan time.Time, len(loops))
	for i, l := range loops {
		restarted[i] = make(chan time.Time, 1)
		wg.Add(1)
		go func() { defer wg.Done(); l.run(restarted[i]) }()
	}
	outageReads.Wait()
	res.downFor = time.Since(down)
	// Start the simulators again on the same addresses. The port was freed
	// by Close; Go listens with SO_REUSEADDR, so connections of the old one
	// still in TIME_WAIT do not hold it, but another process could have
	// taken it meanwhile: try for a few seconds, then report why not.
	var why []string
	back := map[string]bool{}
	for _, set := range cacheSettings {
		var sim *eventsim.Server
		var err error
		for try := 0; try < 20; try++ {
			if sim, err = eventsim.Start(r.cacheSimConfig(), addrs[set]); err == nil {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil {
			why = append(why, fmt.Sprintf("CACHE=%s: %v", set, err))
			continue
		}
		stacks[set].sim = sim
		back[set] = true
	}
	up := time.Now()
	res.restart = strings.Join(why, "; ")
	for i, ch := range restarted {
		if back[loops[i].setting] {
			ch <- up
		}
		close(ch)
	}
	wg.Wait()
	for _, o := range res.outage {
		fmt.Fprintf(os.Stderr, "outage CACHE=%s %s: %d/%d reads 200 with the data, %d stale-marked (first after %v); after restart %d reads, first fresh after %v\n",
			o.setting, o.route, o.ok, o.reads, o.stale, o.firstStale.Round(time.Millisecond), o.after, o.toFresh.Round(time.Millisecond))
	}
	if res.restart != "" {
		fmt.Fprintf(os.Stderr, "restart on the same address failed: %s\n", res.restart)
	}
	return nil
}

func pct(n, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

func secs(d time.Duration) string {
	if d < 0 {
		return "none"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// cacheMarkdown is the cache suite's section of RESULTS.md.
func (r *report) cacheMarkdown() string {
	c := r.cache
	if c == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%sEntity cache on and off at 500 ms per upstream lookup (user with 10 events)\n\n", suiteHeading("cache"))
	b.WriteString(r.measuredOn("cache", c.when, c.busy) + ".\n")
	fmt.Fprintf(&b, "Two server processes, each with its own simulator, run side by side: `CACHE=on` (the default: fresh 5s, "+
		"stale-while-revalidate 1m, stale-if-error 6h) and `CACHE=off`. Query `%s` over `POST /graphql`, closed loop, "+
		"%s per cell, on and off interleaved (which goes first alternates); req/s, p50 and p99 are the medians of the %d runs of each cell, "+
		"the counts and the upstream calls per 1000 reads are over all its runs.\n\n",
		cacheQuery, r.opts.loadFor, r.opts.runs)
	b.WriteString("| `CACHE` | concurrency | runs | reads (all runs) | failures | req/s | p50 | p99 | upstream calls per 1000 reads | answers marked stale |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	totCalls, totReads := map[string]int{}, map[string]int{}
	for _, cell := range c.cells {
		reads := cell.sum(func(x cacheRun) int { return x.res.requests })
		calls := cell.sum(func(x cacheRun) int { return x.upstream })
		totCalls[cell.setting] += calls
		totReads[cell.setting] += reads
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.0f | %s | %s | %.1f | %s |\n", cell.setting, cell.concurrency, len(cell.runs), reads,
			cell.sum(func(x cacheRun) int { return x.res.failures }),
			cell.medianOf(func(x cacheRun) float64 { return x.res.rps }),
			msFine(time.Duration(cell.medianOf(func(x cacheRun) float64 { return float64(x.res.p50) }))),
			msFine(time.Duration(cell.medianOf(func(x cacheRun) float64 { return float64(x.res.p99) }))),
			perThousand(calls, reads),
			pct(cell.sum(func(x cacheRun) int { return x.stale }), reads))
	}
	fmt.Fprintf(&b, "\nUpstream calls per 1000 reads over every cell: **%.1f** with the cache, **%.0f** without "+
		"(a read of the user and its 10 events is 11 calls when nothing is shared).\n", perThousand(totCalls["on"], totReads["on"]),
		perThousand(totCalls["off"], totReads["off"]))
	b.WriteString(cacheLoadLegend)
	if len(c.outage) > 0 {
		fmt.Fprintf(&b, "\n**Upstream outage of %s.** New servers; the query and `GET %s` read once each, then both simulators (%s) "+
			"closed, so that connections are refused, while each route of each server is read every %s, one read at a time, for %s "+
			"(the simulators stayed down %.1f s, until the last reads begun in that time had answered). ",
			c.outageFor, cacheRESTPath, strings.Join(c.simAddrs, ", "), outageTick, c.outageFor, c.downFor.Seconds())
		if c.restart == "" {
			b.WriteString("Then the simulators are started again on the same addresses and the reads go on until the first fresh answer and 10 more.\n\n")
		} else {
			fmt.Fprintf(&b, "Then the simulators are started again on the same addresses, which failed for %s, so recovery was not measured there.\n\n", c.restart)
		}
		b.WriteString("| `CACHE` | route | reads during the outage | 200 with the data | share | of which marked stale | first stale answer | reads after the restart (200 with the data) | first fresh 200 after the restart |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, o := range c.outage {
			first := "—"
			if o.firstStale > 0 {
				first = fmt.Sprintf("%s in (%s after the fill)", secs(o.firstStale), secs(o.sinceFill))
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | **%s** | %d | %s | %d (%d) | %s |\n", o.setting, o.route, o.reads, o.ok, pct(o.ok, o.reads),
				o.stale, first, o.after, o.afterOK, secs(o.toFresh))
		}
		sep := "\n"
		for _, o := range c.outage {
			if o.firstErr != "" {
				fmt.Fprintf(&b, "%s- first failed read, `CACHE=%s` %s: `%s`\n", sep, o.setting, o.route, truncate(o.firstErr, 200))
				sep = ""
			}
		}
		b.WriteString(cacheOutageLegend)
	}
	return b.String()
}

// cpuBusy is the share of CPU time not idle over d, from /proc/stat, or
// "" where that cannot be read.
func cpuBusy(d time.Duration) string {
	sample := func() (idle, total uint64, ok bool) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, false
		}
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != "cpu" {
			return 0, 0, false
		}
		for i, v := range f[1:] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, 0, false
			}
			total += n
			if i == 3 || i == 4 { // idle, iowait
				idle += n
			}
		}
		return idle, total, true
	}
	i0, t0, ok0 := sample()
	time.Sleep(d)
	i1, t1, ok1 := sample()
	if !ok0 || !ok1 || t1 <= t0 {
		return ""
	}
	return fmt.Sprintf("%.0f %%", 100*(1-float64(i1-i0)/float64(t1-t0)))
}

func quickFlag(o options) string {
	if o.quick {
		return " -quick"
	}
	return ""
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "`", "'")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

const cacheLoadLegend = "\nHow to read it: without the cache every read waits for the 500 ms event lookups, so a closed loop makes " +
	"at most concurrency ÷ 0.5 s reads per second, and concurrent reads share only the calls in flight together (11 calls per read " +
	"at concurrency 1, fewer when 32 or 256 reads wait on the same lookups). With it, entries are served from memory for 5 s; the " +
	"first read after that gets them at once, marked stale, and starts one background refresh per key (1 `getUserById` and 10 " +
	"`getEventById`), whose 500 ms event lookups are the time during which answers are marked stale. So the upstream sees about " +
	"11 calls per 5.5 s whatever the load, and the stale share depends on the cells: one that starts with entries older than 5 s " +
	"(the server idled through the other setting's cell) answers stale for its first ~0.5 s. The gateway, the load generator and " +
	"both simulators share the same 2 cores: with the cache, the figures at 32 and 256 are bound by CPU, not by the upstream.\n"

const cacheOutageLegend = "\nWith the cache, reads are answered from memory: unmarked while the entries are under 5 s old, then " +
	"marked stale (GraphQL `extensions.cache.stale`, REST `Warning: 110`) from the stale-while-revalidate window, whose background " +
	"refreshes fail while the upstream is down. An outage longer than that window (fresh 5 s + 1 min) would be bridged by the " +
	"stale-if-error window (6 h), each read trying the upstream first (not reached here). After the restart the first read is " +
	"still stale and starts the refresh; its event lookups take 500 ms, then reads are fresh. Without the cache every read fails " +
	"after the upstream client's 4 attempts, and reads succeed again as soon as the simulator is back.\n"
