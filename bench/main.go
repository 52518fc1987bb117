// Command bench measures the gateway against the simulator, on loopback
// only, with every loop bounded in time and count. It builds and starts the
// real server binary (so its memory can be read) in front of an in-process
// simulator (so upstream calls can be counted), runs the suites, and writes
// RESULTS.md and latency.svg.
//
// It is a module of its own (bench/go.mod, with a replace to the parent) so
// that its plotting dependencies stay out of the gateway's go.mod. From the
// repository root:
//
//	go -C bench run .                 # every suite, ~14 minutes
//	go -C bench run . -quick          # shorter runs, ~5 minutes
//	go -C bench run . -suites latency # one suite
//	go -C bench run . -suites cache   # entity cache on vs CACHE=off, ~3 minutes (-quick: ~1)
//	go -C bench run . -suites realtime # eventAdded to 1000 WebSocket subscribers, ~15 s
//	go -C bench run . -suites fleet   # 3 replicas with and without Redis, ~3 minutes (-quick: ~1.5); needs redis-server
//	go -C bench run . -suites adaptive # adaptive vs fixed upstream concurrency against a capacity-100 upstream, ~2 minutes (-quick: ~40 s)
//	go -C bench run . -suites peers   # beside an Apollo Server peer, ~12 minutes (-quick: ~4); needs node and npm
//	go -C bench run . -suites cached  # whole answers kept: both doors beside the Apollo peer's response cache, ~9 minutes; needs node and npm
//
// A run of some of the suites rewrites only their sections of an existing
// RESULTS.md and keeps the others as they were.
//
// (or `go run .` inside bench/). It finds the repository root itself, so it
// works from either folder.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type options struct {
	suites      []string
	runs        int
	seqMax      int
	concurrency int
	loadFor     time.Duration
	cycleFor    time.Duration
	outageFor   time.Duration
	subscribers int           // realtime suite
	mutations   int           // realtime suite
	fleetFor    time.Duration // fleet suite: duration of each load cell
	quick       bool
	outDir      string
	root        string // the gateway module's folder: ./server and ./internal/... are built from it
}

func main() {
	var o options
	var suites string
	quick := flag.Bool("quick", false, "shorter runs (3 per figure, 2 s load levels, 20 s failure cycle, 10 s outage, 20 realtime mutations, 6 s fleet cells)")
	flag.StringVar(&suites, "suites", strings.Join(allSuites, ","), "comma-separated suites to run")
	flag.IntVar(&o.runs, "runs", 5, "runs per latency figure, per cache-suite cell, of the fleet suite and rounds of the peers and cached suites (the median is reported)")
	flag.IntVar(&o.seqMax, "seq-max", 200, "largest N for which the sequential N+1 loop is timed (it takes N × 500 ms)")
	flag.IntVar(&o.concurrency, "upstream-concurrency", 1024, "UPSTREAM_MAX_CONCURRENCY of the server under test (the ceiling of its adaptive limit; 1024 is the server's default)")
	flag.DurationVar(&o.loadFor, "load-for", 5*time.Second, "duration of each throughput level and cache-suite cell")
	flag.DurationVar(&o.cycleFor, "cycle-for", 2*time.Minute, "duration of the addEvent failure-cycle run")
	flag.DurationVar(&o.outageFor, "outage-for", 30*time.Second, "how long the cache suite keeps the upstream down")
	flag.IntVar(&o.subscribers, "subscribers", 1000, "WebSocket subscribers of the realtime suite")
	flag.IntVar(&o.mutations, "mutations", 50, "addEvent mutations whose fan-out the realtime suite times")
	flag.DurationVar(&o.fleetFor, "fleet-for", 10*time.Second, "duration of each fleet-suite load cell (longer than CACHE_FRESH_TTL, 5 s, so that it includes a refresh)")
	flag.StringVar(&o.outDir, "out", "", "folder for RESULTS.md and latency.svg (default: the repository's bench folder)")
	flag.Parse()
	root, err := gatewayRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	o.root = root
	if o.outDir == "" {
		o.outDir = filepath.Join(root, "bench")
	}
	if *quick {
		o.runs, o.loadFor, o.cycleFor, o.outageFor = 3, 2*time.Second, 20*time.Second, 10*time.Second
		o.mutations, o.fleetFor = 20, 6*time.Second
	}
	o.quick = *quick
	o.suites = strings.Split(suites, ",")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	bin, cleanup, err := buildServer(o.root)
	if err != nil {
		return err
	}
	defer cleanup()
	r := &report{started: time.Now(), opts: o, machine: machine()}
	for _, s := range o.suites {
		fmt.Fprintf(os.Stderr, "== %s\n", s)
		var err error
		switch s {
		case "latency":
			err = r.latency(bin)
		case "throughput":
			err = r.throughput(bin)
		case "dedup":
			err = r.dedup(bin)
		case "cycle":
			err = r.cycle(bin)
		case "drops":
			err = r.drops(bin)
		case "cache":
			err = r.cacheSuite(bin)
		case "realtime":
			err = r.realtime(bin)
		case "fleet":
			err = r.fleetSuite(bin)
		case "adaptive":
			err = r.adaptiveSuite(bin)
		case "peers":
			err = r.peers(bin)
		case "cached":
			err = r.cachedSuite(bin)
		case "micro":
			err = r.micro()
		default:
			err = fmt.Errorf("unknown suite %q", s)
		}
		if err != nil {
			return fmt.Errorf("suite %s: %w", s, err)
		}
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	if slices.Contains(o.suites, "latency") {
		if err := r.chart(filepath.Join(o.outDir, "latency.svg")); err != nil {
			return err
		}
	}
	path := filepath.Join(o.outDir, "RESULTS.md")
	md := r.markdown()
	if old, err := os.ReadFile(path); err == nil {
		note := fmt.Sprintf("_Re-measured on %s, %s, by `go -C bench run . -suites %s%s`; the sections not re-measured keep the figures of the run named at the top._",
			r.started.UTC().Format("2006-01-02"), r.machine, strings.Join(o.suites, ","), quickFlag(o))
		md = mergeResults(string(old), md, o.suites, note)
	}
	fmt.Println(md)
	return os.WriteFile(path, []byte(md), 0o644)
}

// machine describes where the figures were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
