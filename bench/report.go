package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// report collects every suite's figures.
type report struct {
	started time.Time
	opts    options
	machine string

	latencyRows []latencyRow

	gqlLoad, restLoad []loadResult
	peakRSSMiB        float64

	dedupRows []dedupRow

	cycleSent     int
	cycleOutcomes map[string]int
	cycleUpstream int

	dropFailures, dropAttempts int

	micros []string

	cache *cacheResult

	realtimeRes *rtResult
	fleetRes    *fleetResult
	peersRes    *peersResult
	cachedRes   *cachedResult
	adaptiveRes *adaptiveResult
}

func ms(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func msFine(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark results\n\nProduced by `go -C bench run .` on %s, %s.\n", r.started.UTC().Format("2006-01-02"), r.machine)
	fmt.Fprintf(&b, "Server: the real binary as a separate process, `UPSTREAM_MAX_CONCURRENCY=%d` (the ceiling of the adaptive limit; otherwise default settings); upstream: the simulator, in the bench process, on loopback.\n", r.opts.concurrency)
	if len(r.latencyRows) > 0 {
		fmt.Fprintf(&b, "\n%sA user's events at 500 ms per upstream lookup\n\n", suiteHeading("latency"))
		fmt.Fprintf(&b, "Median of %d runs; the sequential N+1 loop of the original service is timed once against the same simulator.\n\n", r.opts.runs)
		b.WriteString("| events | GraphQL `user(id){events{id name}}` | REST `GET /getEventsByUserId/:id` | sequential N+1 | upstream calls per query | peak concurrent lookups | GraphQL ÷ one round trip |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, row := range r.latencyRows {
			seq := ms(row.sequential)
			if row.sequential == 0 {
				seq = fmt.Sprintf("not run (≈ %d s)", row.n/2)
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %d | %d | %.2f × |\n", row.n, ms(row.graphql), ms(row.rest), seq,
				row.upstreamPerQuery, row.peakInFlight, float64(row.graphql)/float64(500*time.Millisecond))
		}
		b.WriteString("\n![latency against number of events](latency.svg)\n")
	}
	if len(r.gqlLoad) > 0 {
		fmt.Fprintf(&b, "\n%sThroughput with no upstream delay (user with 10 events, %s per level)\n\n", suiteHeading("throughput"), r.opts.loadFor)
		b.WriteString("| route | concurrency | requests | failures | req/s | p50 | p99 |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for i := range r.gqlLoad {
			for _, x := range []struct {
				name string
				res  loadResult
			}{{"GraphQL", r.gqlLoad[i]}, {"REST", r.restLoad[i]}} {
				fmt.Fprintf(&b, "| %s | %d | %d | %d | %.0f | %s | %s |\n", x.name, x.res.concurrency, x.res.requests,
					x.res.failures, x.res.rps, msFine(x.res.p50), msFine(x.res.p99))
			}
		}
		fmt.Fprintf(&b, "\nServer peak RSS over the whole run: **%.1f MiB**. Load generator and simulator share the same 2 cores.\n", r.peakRSSMiB)
	}
	if len(r.dedupRows) > 0 {
		fmt.Fprintf(&b, "\n%s100 identical concurrent queries `user(id: \"1\"){events{id name}}`\n\n", suiteHeading("dedup"))
		b.WriteString("User 1 has 2 events: the ideal is 1 `getUserById` and 2 `getEventById` per burst.\n\n")
		b.WriteString("| sharing | `getUserById` calls | `getEventById` calls |\n|---|---:|---:|\n")
		for _, row := range r.dedupRows {
			fmt.Fprintf(&b, "| `%s` | %d | %d |\n", row.window, row.userCalls, row.evtCalls)
		}
		b.WriteString("\nWith the entity cache off, only calls literally in flight together are shared: the 500 ms event lookups always are, " +
			"but the user lookup answers in well under a millisecond, faster than 100 requests are parsed on 2 cores, so a burst makes a few. " +
			"The entity cache (on by default) joins a lookup to the fill already in flight for the same key.\n")
	}
	if r.cycleSent > 0 {
		fmt.Fprintf(&b, "\n%saddEvent through the failure cycle, 10 requests/s for %s\n\n", suiteHeading("cycle"), r.opts.cycleFor)
		b.WriteString("| client outcome | count |\n|---|---:|\n")
		keys := make([]string, 0, len(r.cycleOutcomes))
		for k := range r.cycleOutcomes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "| %s | %d |\n", k, r.cycleOutcomes[k])
		}
		fmt.Fprintf(&b, "\nRequests sent: %d. Upstream `addEvent` calls: %d. Calls the breaker spared the upstream: **%d**.\n",
			r.cycleSent, r.cycleUpstream, r.cycleSent-r.cycleUpstream)
		b.WriteString(cycleLegend)
	}
	if r.dropAttempts > 0 {
		fmt.Fprintf(&b, "\n%s`GET /getUsers` 1000 times at the 5 %% dropped-connection rate\n\n", suiteHeading("drops"))
		fmt.Fprintf(&b, "Client-visible failures: **%d** of 1000. Upstream attempts: %d (%d retried drops).\n",
			r.dropFailures, r.dropAttempts, r.dropAttempts-1000)
	}
	b.WriteString(r.cacheMarkdown())
	b.WriteString(r.realtimeMarkdown())
	b.WriteString(r.fleetMarkdown())
	b.WriteString(r.peersMarkdown())
	b.WriteString(r.cachedMarkdown())
	b.WriteString(r.adaptiveMarkdown())
	if len(r.micros) > 0 {
		b.WriteString("\n" + suiteHeading("micro") + "Go micro-benchmarks (`go test -bench . -benchmem`)\n\n```text\n")
		for _, l := range r.micros {
			b.WriteString(l + "\n")
		}
		b.WriteString("```\n\nThe `BenchmarkGraphQLUserEvents` and `BenchmarkRESTEventsByUserID` figures are whole requests through the " +
			"gateway's handler to an in-process simulator with no delay; their allocations include the simulator's share.\n")
	}
	return b.String()
}

// chart plots latency against the number of events, ours against the
// sequential loop, on a log scale.
func (r *report) chart(path string) error {
	p := plot.New()
	p.Title.Text = "A user's events at 500 ms per upstream lookup"
	p.X.Label.Text = "events of the user"
	p.Y.Label.Text = "wall time (s, log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(40)
	p.X.Min, p.X.Max = 0.8, 2000 // headroom: no point on the frame
	p.Y.Min, p.Y.Max = 0.3, 300
	series := func(pick func(latencyRow) time.Duration) plotter.XYs {
		var xy plotter.XYs
		for _, row := range r.latencyRows {
			if d := pick(row); d > 0 {
				xy = append(xy, plotter.XY{X: float64(row.n), Y: d.Seconds()})
			}
		}
		return xy
	}
	lines := []struct {
		name string
		xy   plotter.XYs
		c    color.RGBA
	}{
		{"gateway, GraphQL", series(func(l latencyRow) time.Duration { return l.graphql }), color.RGBA{R: 30, G: 110, B: 200, A: 255}},
		{"gateway, REST", series(func(l latencyRow) time.Duration { return l.rest }), color.RGBA{R: 40, G: 170, B: 90, A: 255}},
		{"original sequential N+1", series(func(l latencyRow) time.Duration { return l.sequential }), color.RGBA{R: 210, G: 60, B: 40, A: 255}},
	}
	for _, l := range lines {
		if len(l.xy) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(l.xy)
		if err != nil {
			return err
		}
		line.Color, points.Color = l.c, l.c
		p.Add(line, points)
		p.Legend.Add(l.name, line, points)
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// cycleLegend explains how the cycle suite's outcomes map to upstream calls.
const cycleLegend = "\nHow to read it: the simulator's calls 1–5 of each 15 succeed and 6–15 fail. A failing call while the " +
	"circuit is CLOSED is answered `ServiceUnavailable (CLOSED)`; the call that trips it, and every failed probe, " +
	"are answered `OPEN` with the time to the next probe; `HALF_OPEN` answers are requests that arrived while a " +
	"probe was in flight. Requests are sent every 100 ms and a failing call takes 100 ms, so one more call may " +
	"already be in flight when the third failure trips the breaker; after that only probes reach the upstream, " +
	"10 s, 20 s and 40 s (plus jitter) apart, and the next one falls after the 2 minutes.\n"

// measuredOn is the line that dates a suite's section: when, on what, by
// which command, and how busy the machine was just before (if known).
func (r *report) measuredOn(suite string, when time.Time, busy string) string {
	s := fmt.Sprintf("Measured on %s, %s, by `go -C bench run . -suites %s%s`", when.UTC().Format("2006-01-02"), r.machine, suite, quickFlag(r.opts))
	if busy != "" {
		s += fmt.Sprintf(" (CPUs %s busy in the second before it began)", busy)
	}
	return s
}
