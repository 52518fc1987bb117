package main

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/eventms/gateway/internal/eventsim"
)

// The adaptive suite: the adaptive upstream concurrency limit against an
// upstream with a capacity. The simulator serves 100 lookups in flight at
// its normal latency, slows down in proportion beyond that and refuses (503)
// beyond 200; more clients than that ask for distinct users, so neither
// the entity cache (off) nor shared calls hide the load. The same load runs
// against the adaptive limit (the default) and a fixed one at the default
// ceiling, and once against a light load for the uncongested latency.
const (
	adaptiveCapacity = 100
	adaptiveDelay    = 50 * time.Millisecond
	adaptiveClients  = 32 // × 10 lookups: 320 wanted in flight, beyond the 200 the upstream takes
	adaptiveLight    = 4  // × 10 lookups: 40, well within capacity
)

type adaptiveCell struct {
	name          string
	load          loadResult
	upP50, upP99  time.Duration // getEventById as the simulator served it
	calls, refuse int           // upstream calls in all, and those refused 503
	limits        []limitSample // adaptive cells: the getEventById limit over time
	meanLimit     float64       // over the last half of the run
}

type limitSample struct {
	at       time.Duration
	limit    int
	inFlight int
}

type adaptiveResult struct {
	runFor       time.Duration
	light        adaptiveCell
	adaptive     adaptiveCell
	fixed        adaptiveCell
	chartWritten bool
}

// timedSim serves a simulator and records how long each getEventById took.
type timedSim struct {
	sim *eventsim.Sim
	url string
	srv *http.Server

	mu   sync.Mutex
	rtts []time.Duration
}

func startTimedSim(cfg eventsim.Config) (*timedSim, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &timedSim{sim: eventsim.New(cfg), url: "http://" + ln.Addr().String()}
	t.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/getEventById/") {
			t.sim.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		t.sim.ServeHTTP(w, r)
		d := time.Since(start)
		t.mu.Lock()
		t.rtts = append(t.rtts, d)
		t.mu.Unlock()
	})}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

func (t *timedSim) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
}

// reset starts a new cell: counters and recorded latencies.
func (t *timedSim) reset() {
	t.sim.ResetStats()
	t.mu.Lock()
	t.rtts = t.rtts[:0]
	t.mu.Unlock()
}

func (t *timedSim) latencies() (p50, p99 time.Duration) {
	t.mu.Lock()
	s := slices.Clone(t.rtts)
	t.mu.Unlock()
	slices.Sort(s)
	return percentile(s, 0.5), percentile(s, 0.99)
}

func (r *report) adaptiveSuite(bin string) error {
	runFor := 30 * time.Second
	if r.opts.quick {
		runFor = 10 * time.Second
	}
	res := &adaptiveResult{runFor: runFor}
	// Enough users that no one repeats within a cell at these rates.
	users := 50000
	sim, err := startTimedSim(eventsim.Config{EventDelay: adaptiveDelay, Capacity: adaptiveCapacity,
		OverloadFactor: 2, Users: users, EventsPerUser: 10})
	if err != nil {
		return err
	}
	defer sim.close()
	var next atomic.Int64
	cell := func(name string, clients int, d time.Duration, track bool, env ...string) (adaptiveCell, error) {
		st, err := startProcess(bin, sim.url, append([]string{"CACHE=off"}, env...)...)
		if err != nil {
			return adaptiveCell{}, err
		}
		defer st.stop()
		sim.reset()
		c := adaptiveCell{name: name}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		if track {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.limits = st.trackLimit(stop)
			}()
		}
		c.load = closedLoop(clients, d, 1_000_000, func() error {
			id := fmt.Sprintf("u%d", next.Add(1)%int64(users)+1)
			_, err := st.gql(userEventsQuery, map[string]any{"id": id})
			return err
		})
		close(stop)
		wg.Wait()
		c.upP50, c.upP99 = sim.latencies()
		stats := sim.sim.Stats()
		c.refuse = stats.Overloaded
		for _, n := range stats.Calls {
			c.calls += n
		}
		if n := len(c.limits); n > 0 {
			sum := 0
			for _, s := range c.limits[n/2:] {
				sum += s.limit
			}
			c.meanLimit = float64(sum) / float64(n-n/2)
		}
		fmt.Fprintf(os.Stderr, "%s: %.0f req/s p50 %v p99 %v, upstream p50 %v p99 %v, %d/%d refused, mean limit %.0f\n",
			name, c.load.rps, c.load.p50, c.load.p99, c.upP50, c.upP99, c.refuse, c.calls, c.meanLimit)
		return c, nil
	}
	if res.light, err = cell("light load, adaptive", adaptiveLight, runFor/3, false); err != nil {
		return err
	}
	if res.adaptive, err = cell("adaptive limit (default)", adaptiveClients, runFor, true); err != nil {
		return err
	}
	if res.fixed, err = cell("fixed limit 1024", adaptiveClients, runFor, false,
		"UPSTREAM_MIN_CONCURRENCY=1024", "UPSTREAM_MAX_CONCURRENCY=1024"); err != nil {
		return err
	}
	if err := res.chart(r.opts.outDir + "/adaptive.svg"); err != nil {
		return fmt.Errorf("adaptive chart: %w", err)
	}
	res.chartWritten = true
	r.adaptiveRes = res
	return nil
}

// trackLimit reads getEventById's limit from /readyz every 100 ms until stop.
func (s *stack) trackLimit(stop <-chan struct{}) []limitSample {
	var out []limitSample
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		var body struct {
			UpstreamConcurrency map[string]struct{ Limit, InFlight int } `json:"upstreamConcurrency"`
		}
		resp, err := s.http.Get(s.url + "/readyz")
		if err != nil {
			continue
		}
		err = jsonDecode(resp, &body)
		resp.Body.Close()
		if ev, ok := body.UpstreamConcurrency["getEventById"]; ok && err == nil {
			out = append(out, limitSample{at: time.Since(start), limit: ev.Limit, inFlight: ev.InFlight})
		}
	}
}

// chart plots the adaptive limit and the calls in flight over time.
func (a *adaptiveResult) chart(path string) error {
	if len(a.adaptive.limits) == 0 {
		return errors.New("no limit samples")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("getEventById, upstream capacity %d (503 beyond %d)", adaptiveCapacity, 2*adaptiveCapacity)
	p.X.Label.Text = "seconds into the run"
	p.Y.Label.Text = "calls"
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(40)
	var lim, inf plotter.XYs
	for _, s := range a.adaptive.limits {
		lim = append(lim, plotter.XY{X: s.at.Seconds(), Y: float64(min(s.limit, 400))})
		inf = append(inf, plotter.XY{X: s.at.Seconds(), Y: float64(s.inFlight)})
	}
	cap := plotter.XYs{{X: 0, Y: adaptiveCapacity}, {X: a.runFor.Seconds(), Y: adaptiveCapacity}}
	for i, l := range []struct {
		name string
		xy   plotter.XYs
		c    color.RGBA
	}{
		{"calls in flight (dashed)", inf, color.RGBA{R: 40, G: 170, B: 90, A: 255}},
		{"adaptive limit", lim, color.RGBA{R: 30, G: 110, B: 200, A: 255}},
		{"upstream capacity", cap, color.RGBA{R: 210, G: 60, B: 40, A: 255}},
	} {
		line, err := plotter.NewLine(l.xy)
		if err != nil {
			return err
		}
		line.Color = l.c
		if i == 0 { // under the limit, which it mostly equals
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			line.Width = vg.Points(2)
		}
		p.Add(line)
		p.Legend.Add(l.name, line)
	}
	p.Y.Min, p.Y.Max = 0, 420
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}

func (r *report) adaptiveMarkdown() string {
	a := r.adaptiveRes
	if a == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%sAdaptive upstream concurrency against an upstream with capacity %d\n\n", suiteHeading("adaptive"), adaptiveCapacity)
	fmt.Fprintf(&b, "The simulator serves %d event lookups in flight at %v, slows down in proportion beyond that and answers 503 beyond %d. "+
		"%d clients ask, back to back for %v, for distinct users with 10 events each (%d lookups wanted in flight), entity cache off; "+
		"the uncongested reference is %d clients for %v. Latencies of the upstream are measured at the simulator.\n\n",
		adaptiveCapacity, adaptiveDelay, 2*adaptiveCapacity, adaptiveClients, a.runFor, adaptiveClients*10, adaptiveLight, a.runFor/3)
	b.WriteString("| gateway | clients | req/s | failed requests | request p50 | request p99 | upstream p50 | upstream p99 | upstream p99 ÷ uncongested | 503 share of upstream calls | getEventById limit (mean, 2nd half) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	base := a.light.upP99
	for _, c := range []struct {
		cell    adaptiveCell
		clients int
	}{{a.light, adaptiveLight}, {a.adaptive, adaptiveClients}, {a.fixed, adaptiveClients}} {
		lim := "—"
		if c.cell.meanLimit > 0 {
			lim = fmt.Sprintf("%.0f", c.cell.meanLimit)
		}
		share := 0.0
		if c.cell.calls > 0 {
			share = 100 * float64(c.cell.refuse) / float64(c.cell.calls)
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %d of %d | %s | %s | %s | %s | %.2f × | %.2f %% | %s |\n", c.cell.name, c.clients, c.cell.load.rps,
			c.cell.load.failures, c.cell.load.requests,
			msFine(c.cell.load.p50), msFine(c.cell.load.p99), msFine(c.cell.upP50), msFine(c.cell.upP99),
			float64(c.cell.upP99)/float64(base), share, lim)
	}
	b.WriteString("\nRequest latency above the upstream's is the time lookups wait in the gateway for a slot: the clients ask for more " +
		"than the upstream can serve, and the limit keeps that queue in the gateway, where it costs nothing, instead of in the " +
		"upstream, where it slows every call and spills into 503s.\n")
	if a.chartWritten {
		b.WriteString("\n![getEventById limit over time](adaptive.svg)\n\nThe limit starts at the ceiling, 1024 (off the chart), " +
			"and the first refusals bring it below 200 within the first sample (100 ms); /readyz is sampled every 100 ms.\n")
	}
	return b.String()
}
