package main

import "testing"

const oldResults = `# Benchmark results

Produced by X.

## (a) latency

a-old

## (e) drops

e-old

## Go micro-benchmarks (x)

micro-old
`

func TestMergeResultsReplacesOnlyTheSuitesRun(t *testing.T) {
	fresh := "# Benchmark results\n\nProduced by Y.\n\n## (e) drops\n\ne-new\n"
	got := mergeResults(oldResults, fresh, []string{"drops"}, "NOTE")
	want := "# Benchmark results\n\nProduced by X.\n\n## (a) latency\n\na-old\n\n## (e) drops\n\nNOTE\n\ne-new\n\n## Go micro-benchmarks (x)\n\nmicro-old\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMergeResultsInsertsANewSectionInSuiteOrder(t *testing.T) {
	fresh := "# Benchmark results\n\nProduced by Y.\n\n## (f) cache\n\nMeasured on today.\n\nf-new\n"
	got := mergeResults(oldResults, fresh, []string{"cache"}, "NOTE")
	want := "# Benchmark results\n\nProduced by X.\n\n## (a) latency\n\na-old\n\n## (e) drops\n\ne-old\n\n## (f) cache\n\nMeasured on today.\n\nf-new\n\n## Go micro-benchmarks (x)\n\nmicro-old\n"
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
