package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// ratio is a ÷ b as "1.23 ×", or "—" when b is nothing to divide by.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "—"
	}
	return fmt.Sprintf("%.2f ×", a/b)
}

// within says whether a and b differ by at most frac of b.
func within(a, b, frac float64) bool {
	return b != 0 && math.Abs(a-b) <= frac*math.Abs(b)
}

// peersMarkdown is the peers suite's section of RESULTS.md.
func (r *report) peersMarkdown() string {
	p := r.peersRes
	if p == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%sThe gateway beside an Apollo Server peer, no upstream delay (user with %d events)\n\n", suiteHeading("peers"), peersEvents)
	b.WriteString(r.measuredOn("peers", p.when, p.busy) + ".\n")
	fmt.Fprintf(&b, "Peer: `bench/peers/apollo`, Apollo Server %s (standalone) with `dataloader` and `@apollo/datasource-rest`, "+
		"on Node.js %s with `NODE_ENV=production`: a user's events through a per-request DataLoader of `getEventById` calls. "+
		"Gateway: the server binary with `CACHE=off` (the per-request cost), and `UPSTREAM_MAX_CONCURRENCY=%d`, "+
		"except the row whose entity cache is on (with `RESPONSE_CACHE=off`: the whole-answer cache is the cached suite's). All of them on loopback in front of one simulator in the bench process: "+
		"no delay, no dropped connections, users u1…u%d with %d events each. ",
		p.apollo, p.node, r.opts.concurrency, peersUsers, peersEvents)
	generator := "The Go closed loop (`bench/load.go`; wrk is not installed), which fails a request unless it answers 200 with the user's %d named events"
	if p.wrk != "" {
		generator = "wrk (`" + p.wrk + " --latency`, 2 threads, a Lua script per case), which fails a request on a non-2xx status, " +
			"a socket error or a 200 carrying GraphQL errors; before each cell the Go reader checks 20 whole answers of the same kind " +
			"(200, the user's %d named events) and counts its failures with the cell's"
	}
	fmt.Fprintf(&b, "Each request reads `%s` (REST: `GET /getEventsByUserId/:id`); "+
		"same-user reads ask for u1 every time, distinct-user reads for the next user each time. "+
		generator+". %s per cell; the targets of a cell are interleaved, their order rotated each round; "+
		"req/s, p50 and p99 are the **medians of %d rounds**, failures and upstream calls per request are over all of them; "+
		"server CPU is the serving process's user and system time (/proc/<pid>/stat) over all rounds ÷ their requests, "+
		"and in brackets the cores it kept busy (median); peak RSS is the VmHWM of the process serving the cell, ",
		userEventsQuery, peersEvents, r.opts.loadFor, r.opts.runs)
	if p.repeats {
		b.WriteString("(A distinct-user cell made more requests than there are users, so some users were read twice in it.) ")
	}
	if p.rssSince == "" {
		b.WriteString("restarted at the start of each cell, the median over the rounds (a process keeps what its heap grew to, so later cells start higher).\n")
	} else {
		b.WriteString(p.rssSince + ".\n")
	}
	ceiling := medianFloat(ceilingRates(p.ceiling)) / (1 + peersEvents)
	for _, kase := range []string{caseSame, caseDistinct} {
		fmt.Fprintf(&b, "\n**%s**\n\n", kase)
		head := "| concurrency | target | req/s | ÷ Apollo | p50 | p99 | failures | upstream calls per request | server CPU per request (cores busy) | peak RSS |"
		rule := "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
		if kase == caseDistinct {
			head += " ÷ upstream ceiling |"
			rule += "---:|"
		}
		b.WriteString(head + "\n" + rule + "\n")
		for _, c := range p.cells {
			if c.kase != kase {
				continue
			}
			apollo := p.cell(kase, c.concurrency, tgtApollo)
			fmt.Fprintf(&b, "| %d | %s | %.0f | %s | %s | %s | %d | %.2f | %s (%.2f) | %.1f MiB |", c.concurrency, c.target, c.rps(),
				ratio(c.rps(), apollo.rps()), msFine(c.p50()), msFine(c.p99()), c.sum(func(l loadResult) int { return l.failures }),
				c.callsPerRequest(), msFine(c.cpuPerRequest()), c.cores(), c.peakRSS())
			if kase == caseDistinct {
				fmt.Fprintf(&b, " %s |", ratio(c.rps(), ceiling))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n**Ratios** (of the medians above)\n\n")
	b.WriteString("| case | concurrency | gateway GraphQL ÷ Apollo, req/s | gateway REST ÷ Apollo, req/s | GraphQL ÷ REST, req/s | gateway GraphQL ÷ Apollo, p99 | Apollo ÷ gateway GraphQL, server CPU per request |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, pc := range peersCases {
		g, rest, a := p.cell(pc.name, pc.concurrency, tgtGraphQL), p.cell(pc.name, pc.concurrency, tgtREST), p.cell(pc.name, pc.concurrency, tgtApollo)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", pc.name, pc.concurrency, ratio(g.rps(), a.rps()), ratio(rest.rps(), a.rps()),
			ratio(g.rps(), rest.rps()), ratio(float64(g.p99()), float64(a.p99())), ratio(float64(a.cpuPerRequest()), float64(g.cpuPerRequest())))
	}
	p.writePeakRSS(&b)
	if c := p.cell(caseSame, peersCrossConcurrency, tgtCached); c != nil {
		fmt.Fprintf(&b, "\nWith its entity cache alone (`RESPONSE_CACHE=off`), the gateway serves same-user reads at c=%d at **%.0f req/s**, p99 %s "+
			"(%s the Apollo peer's req/s), with %.3f upstream calls per request.\n",
			peersCrossConcurrency, c.rps(), msFine(c.p99()), ratio(c.rps(), p.cell(caseSame, peersCrossConcurrency, tgtApollo).rps()), c.callsPerRequest())
	}
	if len(p.ceiling) > 0 {
		fmt.Fprintf(&b, "\n**Upstream ceiling.** The simulator alone, under the same load generator at c=%d, serves **%.0f** `GET /getEventById` "+
			"per second (median of %d, one per round; %s), so at most **%.0f** reads of a user and its %d events per second (÷ %d calls) could pass "+
			"through any gateway in front of it on this machine, were the gateway free. The distinct-user table's last column is each row's req/s "+
			"÷ that figure (measured at c=%d, used for both levels).\n",
			peersCrossConcurrency, medianFloat(ceilingRates(p.ceiling)), len(p.ceiling), spread(ceilingRates(p.ceiling)), ceiling, peersEvents, 1+peersEvents, peersCrossConcurrency)
	}
	b.WriteString(r.crossMarkdown())
	b.WriteString(peersLegend)
	return b.String()
}

// spread is "range <min>–<max>" of rates: how noisy the machine was.
func spread(v []float64) string {
	if len(v) == 0 {
		return "no runs"
	}
	return fmt.Sprintf("range %.0f–%.0f", slices.Min(v), slices.Max(v))
}

// ceilingRates are the upstream-alone runs' req/s.
func ceilingRates(rs []loadResult) []float64 {
	v := make([]float64, len(rs))
	for i, x := range rs {
		v[i] = x.rps
	}
	return v
}

// crossMarkdown is the load-generator cross-check's part of the peers suite.
func (r *report) crossMarkdown() string {
	p := r.peersRes
	var b strings.Builder
	if p.wrk == "" {
		b.WriteString("\n**Load generator cross-check: skipped**, wrk is not installed (Debian: `apt-get install wrk`).\n")
		return b.String()
	}
	fmt.Fprintf(&b, "\n**Load generator cross-check.** The same-user read at c=%d on the `CACHE=off` gateway and on the peer, measured by the Go closed "+
		"loop and by wrk (`%s -t %d -c %d -d %s --latency`; GraphQL by a Lua script posting the same body) back to back in each round, "+
		"which goes first alternating; medians of %d rounds. wrk checks only the status, the Go loop the whole answer.\n\n",
		peersCrossConcurrency, p.wrk, min(runtime.NumCPU(), peersCrossConcurrency), peersCrossConcurrency, r.opts.loadFor.Round(time.Second), r.opts.runs)
	b.WriteString("| route | Go loop req/s | wrk req/s | wrk ÷ Go (of the medians) | wrk ÷ Go (median of the rounds' own ratios) | Go p50 / p99 | wrk p50 / p99 | wrk failures |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	agree := true
	for _, route := range crossRoutes {
		var goRPS, wrkRPS, paired, goP50, goP99, wrkP50, wrkP99 []float64
		fails := 0
		for _, c := range p.cross {
			if c.route != route {
				continue
			}
			goRPS, wrkRPS = append(goRPS, c.goLoop.rps), append(wrkRPS, c.wrk.rps)
			if c.goLoop.rps > 0 {
				paired = append(paired, c.wrk.rps/c.goLoop.rps)
			}
			goP50, goP99 = append(goP50, float64(c.goLoop.p50)), append(goP99, float64(c.goLoop.p99))
			wrkP50, wrkP99 = append(wrkP50, float64(c.wrk.p50)), append(wrkP99, float64(c.wrk.p99))
			fails += c.wrk.failures
		}
		if len(goRPS) == 0 {
			continue
		}
		g, w, pr := medianFloat(goRPS), medianFloat(wrkRPS), medianFloat(paired)
		agree = agree && within(pr, 1, 0.10)
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s | %s | %s / %s | %s / %s | %d |\n", route, g, w, ratio(w, g), ratio(pr, 1),
			msFine(time.Duration(medianFloat(goP50))), msFine(time.Duration(medianFloat(goP99))),
			msFine(time.Duration(medianFloat(wrkP50))), msFine(time.Duration(medianFloat(wrkP99))), fails)
	}
	if agree {
		b.WriteString("\nThe two agree within 10 % (median of the rounds' own ratios, each pair measured back to back).\n")
	} else {
		b.WriteString("\nThe two differ by more than 10 % on at least one route (median of the rounds' own ratios, each pair " +
			"measured back to back). The Go loop runs in the bench process beside the " +
			"simulator, on the same 2 cores as the servers, and decodes and checks every answer, so where a server is bound by CPU " +
			"it takes a larger share of the cores from it than wrk does. That is why every figure above is wrk's.\n")
	}
	return b.String()
}

const peersLegend = "\nHow to read it: every process here (the gateway, the peer, the simulator and the load generator) shares the " +
	"same 2 cores, so these are figures of CPU cost per read more than of capacity, and the machine is shared with other work: " +
	"compare the rows of one cell, which ran interleaved, rather than figures across runs. The gateway's upstream client " +
	"shares identical GETs in flight at the same moment across requests even with `CACHE=off`, so same-user reads at c>1 can " +
	"cost fewer than 11 upstream calls; the peer's RESTDataSource de-duplicates only within a request, and distinct-user " +
	"reads share nothing on either side. wrk stops with up to c requests in flight, whose upstream calls the simulator counts " +
	"but wrk does not, so at c=256 calls per request read up to about one high. Node runs the peer's JavaScript on one thread, so it can keep about one core " +
	"busy; the gateway can use both.\n"

// writePeakRSS writes the peak RSS of each process over every cell it
// served, when the suite measured it.
func (p *peersResult) writePeakRSS(b *strings.Builder) {
	if len(p.procPeak) == 0 {
		return
	}
	names := make([]string, 0, len(p.procPeak))
	for n := range p.procPeak {
		names = append(names, n)
	}
	slices.Sort(names)
	b.WriteString("\nPeak RSS of each process over every cell it served: ")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "%s **%.1f MiB**", n, p.procPeak[n])
	}
	b.WriteString(".\n")
}
