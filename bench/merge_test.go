package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const oldResults = `# Benchmark results

Produced by X.

## latency: A user's events

a-old

## drops: GET /getUsers

e-old

## micro: Go micro-benchmarks (x)

micro-old
`

func TestMergeResultsReplacesOnlyTheSuitesRun(t *testing.T) {
	fresh := "# Benchmark results\n\nProduced by Y.\n\n## drops: GET /getUsers\n\ne-new\n"
	got := mergeResults(oldResults, fresh, []string{"drops"}, "NOTE")
	want := "# Benchmark results\n\nProduced by X.\n\n## latency: A user's events\n\na-old\n\n## drops: GET /getUsers\n\nNOTE\n\ne-new\n\n## micro: Go micro-benchmarks (x)\n\nmicro-old\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMergeResultsInsertsANewSectionInSuiteOrder(t *testing.T) {
	fresh := "# Benchmark results\n\nProduced by Y.\n\n## cache: Entity cache\n\nMeasured on today.\n\nf-new\n"
	got := mergeResults(oldResults, fresh, []string{"cache"}, "NOTE")
	want := "# Benchmark results\n\nProduced by X.\n\n## latency: A user's events\n\na-old\n\n## drops: GET /getUsers\n\ne-old\n\n## cache: Entity cache\n\nMeasured on today.\n\nf-new\n\n## micro: Go micro-benchmarks (x)\n\nmicro-old\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if again := mergeResults(got, fresh, []string{"cache"}, "NOTE"); again != got {
		t.Errorf("a second run changed the file:\n%s", again)
	}
}

func TestMergeResultsEverySuiteIsTheFreshFile(t *testing.T) {
	fresh := "# Benchmark results\n\nfresh\n"
	if got := mergeResults(oldResults, fresh, allSuites, "NOTE"); got != fresh {
		t.Errorf("got\n%s", got)
	}
}

// TestSplitSectionsKeysByTheSuiteName: a heading names its suite by the
// name -suites takes, followed by a colon; a name that is only the
// beginning of another's, or a heading without the colon, is no suite's.
func TestSplitSectionsKeysByTheSuiteName(t *testing.T) {
	md := "# R\n\n## cache: x\n\n## caches: y\n\n## cache x\n\n## peers: z\n\n## Notes\n"
	_, secs := splitSections(md)
	var got []string
	for _, s := range secs {
		got = append(got, s.suite)
	}
	if want := []string{"cache", "", "", "peers", ""}; !slices.Equal(got, want) {
		t.Errorf("suites %q, want %q", got, want)
	}
}

// everySuiteReport is a report with figures for every suite, enough for
// each to write its section.
func everySuiteReport() *report {
	now := time.Now()
	r := &report{started: now, opts: options{runs: 3, loadFor: time.Second, cycleFor: time.Second, concurrency: 256},
		machine:     "test machine",
		latencyRows: []latencyRow{{n: 1, graphql: 500 * time.Millisecond, rest: 500 * time.Millisecond}},
		gqlLoad:     []loadResult{{concurrency: 1}}, restLoad: []loadResult{{concurrency: 1}},
		dedupRows: []dedupRow{{window: "in flight only"}},
		cycleSent: 1, cycleOutcomes: map[string]int{"ok": 1},
		dropAttempts: 1000,
		micros:       []string{"BenchmarkX-2 1 1 ns/op"},
		cache:        &cacheResult{when: now},
		realtimeRes:  &rtResult{when: now, subscribers: 1},
		fleetRes:     &fleetResult{when: now, runs: map[string][]fleetRun{}},
		peersRes:     &peersResult{when: now, node: "v20", apollo: "5"},
		adaptiveRes:  &adaptiveResult{runFor: time.Second},
	}
	for _, pc := range peersCases {
		for _, tg := range pc.targets {
			r.peersRes.cells = append(r.peersRes.cells, &peersCell{kase: pc.name, concurrency: pc.concurrency, target: tg,
				runs: []peersRun{{res: loadResult{requests: 10, rps: 10}}}})
		}
	}
	kept := &peersResult{when: now, node: "v20", apollo: "5"}
	r.cachedRes = &cachedResult{peers: kept, extra: map[*peersCell][]cachedRun{}}
	for _, pc := range cachedCases {
		for _, tg := range pc.targets {
			cell := &peersCell{kase: pc.name, concurrency: pc.concurrency, target: tg,
				runs: []peersRun{{res: loadResult{requests: 10, rps: 10, p99: time.Millisecond}}}}
			kept.cells = append(kept.cells, cell)
			r.cachedRes.extra[cell] = []cachedRun{{kept: 10}}
		}
	}
	return r
}

// TestEverySectionIsHeadedByItsSuiteName: the report of a run of every
// suite has one section per suite, in allSuites order, each headed
// "## <suite>: ", and each section, as the report of a run of its suite
// alone, merges into the whole report in its own place.
func TestEverySectionIsHeadedByItsSuiteName(t *testing.T) {
	md := everySuiteReport().markdown()
	_, secs := splitSections(md)
	var got []string
	for _, s := range secs {
		got = append(got, s.suite)
		if s.suite == "" {
			t.Errorf("a section no suite's heading begins: %q", strings.SplitN(s.text, "\n", 2)[0])
		}
	}
	if !slices.Equal(got, allSuites) {
		t.Errorf("sections %q, want %q", got, allSuites)
	}
	pre, _ := splitSections(md)
	for _, s := range secs {
		if again := mergeResults(md, pre+s.text+"\n", []string{s.suite}, ""); again != md {
			t.Errorf("merging the %s section into the same report changed it:\n%s", s.suite, again)
		}
	}
}

// TestResultsFileIsKeyedLikeTheGenerator: bench/RESULTS.md, whose headings
// are edited by hand when they change, has one section per suite, in
// allSuites order, each headed as the generator heads it, so that a run of
// some suites replaces their sections in place.
func TestResultsFileIsKeyedLikeTheGenerator(t *testing.T) {
	b, err := os.ReadFile("RESULTS.md")
	if err != nil {
		t.Skip("no RESULTS.md:", err)
	}
	old := string(b)
	pre, secs := splitSections(old)
	var got []string
	for _, s := range secs {
		got = append(got, s.suite)
	}
	if !slices.Equal(got, allSuites) {
		t.Fatalf("RESULTS.md sections %q, want %q", got, allSuites)
	}
	// Each heading is the generator's, up to what the figures change.
	fresh := everySuiteReport().markdown()
	_, freshSecs := splitSections(fresh)
	for i, s := range secs {
		if want := strings.SplitN(freshSecs[i].text, "\n", 2)[0]; !sameHeading(strings.SplitN(s.text, "\n", 2)[0], want) {
			t.Errorf("RESULTS.md heading %q, the generator's %q", strings.SplitN(s.text, "\n", 2)[0], want)
		}
	}
	// A run of one suite replaces its section, in place, and nothing else.
	ran := "# Benchmark results\n\nProduced by Y.\n\n" + suiteHeading("fleet") + "Fleet\n\nfleet-new\n"
	merged := mergeResults(old, ran, []string{"fleet"}, "NOTE")
	mpre, msecs := splitSections(merged)
	if mpre != pre || len(msecs) != len(secs) {
		t.Fatalf("merging the fleet section changed the rest of the file:\n%s", merged)
	}
	for i, s := range msecs {
		want := secs[i].text
		if s.suite == "fleet" {
			want = suiteHeading("fleet") + "Fleet\n\nNOTE\n\nfleet-new"
		}
		if s.text != want {
			t.Errorf("section %d (%s) after the merge:\n%s\nwant\n%s", i, s.suite, s.text, want)
		}
	}
}

// figure is a number or a duration ("1000", "5s", "2m0s") in a heading:
// the options of the run (-subscribers, -load-for, -cycle-for) set them.
var figure = regexp.MustCompile(`([0-9][0-9.]*(ms|µs|ns|h|m|s)?)+`)

// sameHeading says whether two headings are equal but for their figures.
func sameHeading(a, b string) bool {
	return figure.ReplaceAllString(a, "#") == figure.ReplaceAllString(b, "#")
}
