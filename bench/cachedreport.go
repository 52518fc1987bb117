package main

import (
	"fmt"
	"strings"
)

// The done-when of issue 26, at the same-user c=32 cell: GraphQL's req/s at
// least this share of REST's, its p99 at most this multiple of REST's.
const (
	doneRPSShare = 1.0
	doneP99Ratio = 1.2
)

// keptShare is the share of a cell's requests, over all rounds, that wrk saw
// come from a cache.
func (c *cachedResult) keptShare(cell *peersCell) float64 {
	kept, reqs := 0, 0
	for i, x := range c.extra[cell] {
		kept += x.kept
		reqs += cell.runs[i].res.requests
	}
	if reqs == 0 {
		return 0
	}
	return float64(kept) / float64(reqs)
}

// lookups is a gateway cell's response cache lookups over all rounds, and
// whether every scrape succeeded.
func (c *cachedResult) lookups(cell *peersCell) (respLookups, bool) {
	var l respLookups
	ok := true
	for _, x := range c.extra[cell] {
		l = l.add(x.lookups)
		ok = ok && x.scrapeErr == ""
	}
	return l, ok
}

// warmText is a cell's warm-up: the median passes and time, and in how
// many rounds it ended with every answer kept; "—" for a target that keeps
// none.
func (c *cachedResult) warmText(cell *peersCell) string {
	var passes, took []float64
	warmed := 0
	for _, x := range c.extra[cell] {
		if x.warmPass == 0 {
			return "—"
		}
		passes, took = append(passes, float64(x.warmPass)), append(took, x.warmTook.Seconds())
		if x.warmed {
			warmed++
		}
	}
	if len(passes) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f in %.1f s (%d of %d warm)", medianFloat(passes), medianFloat(took), warmed, len(passes))
}

// lookupsText is a gateway cell's lookups as the report shows them.
func lookupsText(l respLookups, ok bool) string {
	total := l.hit + l.stale + l.miss
	if !ok || total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f %% / %.0f / %.0f, %.0f", 100*l.hit/total, l.stale, l.miss, l.stored)
}

// roundRatios are, per round, a's req/s ÷ b's and a's p99 ÷ b's: the two
// cells ran in the same round, interleaved.
func roundRatios(a, b *peersCell) (rps, p99 []float64) {
	for i := 0; i < min(len(a.runs), len(b.runs)); i++ {
		if b.runs[i].res.rps > 0 && b.runs[i].res.p99 > 0 {
			rps = append(rps, a.runs[i].res.rps/b.runs[i].res.rps)
			p99 = append(p99, float64(a.runs[i].res.p99)/float64(b.runs[i].res.p99))
		}
	}
	return rps, p99
}

// cachedMarkdown is the cached suite's section of RESULTS.md.
func (r *report) cachedMarkdown() string {
	c := r.cachedRes
	if c == nil {
		return ""
	}
	p := c.peers
	var b strings.Builder
	fmt.Fprintf(&b, "\n%sWhole answers kept: both doors beside the Apollo peer's response cache, no upstream delay (user with %d events)\n\n",
		suiteHeading("cached"), peersEvents)
	b.WriteString(r.measuredOn("cached", p.when, p.busy) + ".\n")
	fmt.Fprintf(&b, "Gateway: the server binary with its defaults (`CACHE=on`, fresh 5 s, `RESPONSE_CACHE=on`, refresh ahead in the last fifth "+
		"of an answer's fresh life) and `UPSTREAM_MAX_CONCURRENCY=%d`; the rows marked `RESPONSE_CACHE=off` are a second gateway process "+
		"with its entity cache on and its response cache off (gqlgen runs on every read: the \"before\"). "+
		"Peer: `bench/peers/apollo` with `RESPONSE_CACHE_MAX_AGE=%d`, Apollo Server %s on Node.js %s with `NODE_ENV=production`, "+
		"`@apollo/server-plugin-response-cache` %s as `responseCachePlugin()` over the server's own default cache (an in-memory LRU of 30 MiB) "+
		"and `ApolloServerPluginCacheControl({ defaultMaxAge: %d })`, since the schema gives no field a positive `maxAge` and the plugin keeps "+
		"only answers whose every field has one; an answer it keeps is served for %d s (the gateway's fresh age), then built again by the "+
		"next reads. One simulator in the bench process: no delay, users u1…u%d with %d events each. ",
		r.opts.concurrency, c.maxAge, p.apollo, p.node, c.plugin, c.maxAge, c.maxAge, cachedUsers, peersEvents)
	if p.wrk != "" {
		fmt.Fprintf(&b, "wrk (`%s --latency`, 2 threads, the peers suite's Lua scripts): GraphQL by `POST /graphql` of `%s`, REST by "+
			"`GET /getEventsByUserId/:id`; a request fails on a non-2xx status, a socket error or a 200 carrying GraphQL errors. ",
			p.wrk, userEventsQuery)
	} else {
		b.WriteString("The Go closed loop (`bench/load.go`; wrk is not installed), which fails a request unless it answers 200 with the user's 10 named events. ")
	}
	fmt.Fprintf(&b, "Same-user cells read u1 every time; rotating cells read u1, u2, … u%d, u1, … spread over wrk's threads. "+
		"Before each cell the Go reader checks %d whole answers (200, the user's %d named events; its failures count with the cell's), then "+
		"warms the cell's users: it reads every one of them with %d readers, pass after pass (%v apart, for at most %v), until a pass finds "+
		"every answer kept (the gateway's `X-Cache: hit`, the peer's `age` header). %s per cell; the targets of a cell are interleaved, their order "+
		"rotated each round; req/s, p50 and p99 are the **medians of %d rounds**; *kept* is the share of the cell's requests, over all "+
		"rounds, whose answer came from a cache as wrk saw it (the same headers); *lookups* are the gateway's own "+
		"`gateway_response_cache_lookups_total` over the cells, all rounds (hit share / stale / miss, and answers stored, refreshes "+
		"included); server CPU and peak RSS as in the peers suite.\n",
		cachedUsers, peersChecks, peersEvents, cachedWarmConcurrency, cachedWarmPause, cachedWarmFor, r.opts.loadFor, r.opts.runs)
	cases := []string{caseKeptSame, caseKeptRotating}
	for _, kase := range cases {
		fmt.Fprintf(&b, "\n**%s**\n\n", kase)
		b.WriteString("| concurrency | target | req/s | p50 | p99 | failures | kept | lookups: hit / stale / miss, stored | upstream calls per request | server CPU per request (cores busy) | peak RSS | warm-up: passes in time (rounds all kept) |\n")
		b.WriteString("|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
		for _, cell := range p.cells {
			if cell.kase != kase {
				continue
			}
			l, ok := c.lookups(cell)
			fmt.Fprintf(&b, "| %d | %s | %.0f | %s | %s | %d | %.1f %% | %s | %.3f | %s (%.2f) | %.1f MiB | %s |\n",
				cell.concurrency, cell.target, cell.rps(), msFine(cell.p50()), msFine(cell.p99()),
				cell.sum(func(l loadResult) int { return l.failures }), 100*c.keptShare(cell), lookupsText(l, ok),
				cell.callsPerRequest(), msFine(cell.cpuPerRequest()), cell.cores(), cell.peakRSS(), c.warmText(cell))
		}
	}
	b.WriteString("\n**Ratios** (of the medians above; in brackets, the median of each round's own ratio, the cells having run interleaved)\n\n")
	b.WriteString("| case | concurrency | GraphQL ÷ REST, req/s | GraphQL ÷ REST, p99 | gateway GraphQL ÷ Apollo peer, req/s | gateway GraphQL ÷ Apollo peer, p99 |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, pc := range cachedCases {
		g, rest, a := p.cell(pc.name, pc.concurrency, tgtKeptGraphQL), p.cell(pc.name, pc.concurrency, tgtKeptREST), p.cell(pc.name, pc.concurrency, tgtKeptApollo)
		rr, rp := roundRatios(g, rest)
		fmt.Fprintf(&b, "| %s | %d | %s (%s) | %s (%s) | %s | %s |\n", pc.name, pc.concurrency,
			ratio(g.rps(), rest.rps()), ratio(medianFloat(rr), 1), ratio(float64(g.p99()), float64(rest.p99())), ratio(medianFloat(rp), 1),
			ratio(g.rps(), a.rps()), ratio(float64(g.p99()), float64(a.p99())))
	}
	b.WriteString(r.cachedDoneWhen())
	b.WriteString(cachedLegend)
	return b.String()
}

// cachedDoneWhen is the verdict on issue 26's done-when, and what the
// response cache changed at that cell.
func (r *report) cachedDoneWhen() string {
	c := r.cachedRes
	p := c.peers
	g, rest := p.cell(caseKeptSame, peersCrossConcurrency, tgtKeptGraphQL), p.cell(caseKeptSame, peersCrossConcurrency, tgtKeptREST)
	if g == nil || rest == nil || len(g.runs) == 0 || len(rest.runs) == 0 {
		return ""
	}
	var b strings.Builder
	rpsRatio, p99Ratio := g.rps()/rest.rps(), float64(g.p99())/float64(rest.p99())
	holds := rpsRatio >= doneRPSShare && p99Ratio <= doneP99Ratio
	rr, rp := roundRatios(g, rest)
	met := 0
	for i := range rr {
		if rr[i] >= doneRPSShare && rp[i] <= doneP99Ratio {
			met++
		}
	}
	verdict := "**holds**"
	if !holds {
		verdict = "**does not hold**"
	}
	fmt.Fprintf(&b, "\n**Done-when** (issue 26: same user, c=%d, GraphQL req/s ≥ %.1f × REST's and GraphQL p99 ≤ %.1f × REST's, in the same run): %s "+
		"on the medians, GraphQL %.0f req/s, p99 %s against REST %.0f req/s, p99 %s (%.2f × and %.2f ×); both conditions met in %d of %d rounds.\n",
		peersCrossConcurrency, doneRPSShare, doneP99Ratio, verdict, g.rps(), msFine(g.p99()), rest.rps(), msFine(rest.p99()), rpsRatio, p99Ratio, met, len(rr))
	eg, er := p.cell(caseKeptSame, peersCrossConcurrency, tgtEntityGraphQL), p.cell(caseKeptSame, peersCrossConcurrency, tgtEntityREST)
	if eg != nil && er != nil && len(eg.runs) > 0 && len(er.runs) > 0 {
		fmt.Fprintf(&b, "\nThe response cache at that cell: GraphQL %.0f → %.0f req/s (%s), p99 %s → %s; REST %.0f → %.0f req/s (%s), p99 %s → %s "+
			"(`RESPONSE_CACHE=off` → on, entity cache on in both); GraphQL ÷ REST %s → %s. Server CPU per request: GraphQL %s → %s, REST %s → %s.\n",
			eg.rps(), g.rps(), ratio(g.rps(), eg.rps()), msFine(eg.p99()), msFine(g.p99()),
			er.rps(), rest.rps(), ratio(rest.rps(), er.rps()), msFine(er.p99()), msFine(rest.p99()),
			ratio(eg.rps(), er.rps()), ratio(g.rps(), rest.rps()),
			msFine(eg.cpuPerRequest()), msFine(g.cpuPerRequest()), msFine(er.cpuPerRequest()), msFine(rest.cpuPerRequest()))
	}
	p.writePeakRSS(&b)
	return b.String()
}

const cachedLegend = "\nHow to read it: a kept answer costs the gateway a hash of the request and a copy of stored bytes on either door, " +
	"so what is left between GraphQL and REST is what happens before the lookup (reading and hashing a POST body against " +
	"hashing a path) and the HTTP work around it; the machine's 2 cores are shared by the servers, the simulator and wrk, " +
	"so these are figures of CPU cost per read more than of capacity, and rows of one cell, which ran interleaved, compare " +
	"better than figures across runs. Upstream calls per request are refreshes: the gateway's refresh ahead rebuilds an " +
	"answer read in the last fifth of its fresh life (11 calls for a user and its 10 events), the peer rebuilds each " +
	"answer once it has expired, on the reads that find it gone (several at once when they arrive together).\n"
