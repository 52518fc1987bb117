package main

import (
	"slices"
	"strings"
)

// allSuites are the suites run by default, in the order their sections
// appear in RESULTS.md (micro's comes last).
var allSuites = []string{"latency", "throughput", "dedup", "cycle", "drops", "cache", "realtime", "fleet", "peers", "cached", "adaptive", "micro"}

// suiteHeading begins suite's "## " heading in RESULTS.md: its name, as
// -suites takes it, and a colon, as in "## latency: A user's events at
// 500 ms per upstream lookup". Every section's generator writes its heading
// with it, and a run of some suites finds the sections it replaces by it.
func suiteHeading(suite string) string { return "## " + suite + ": " }

type section struct {
	suite string // "" when no suite's heading matches
	text  string // from its "## " line, trailing newlines trimmed
}

// splitSections cuts a RESULTS.md into what precedes the first "## "
// heading and the sections that follow, each named by its suite.
func splitSections(md string) (string, []section) {
	lines := strings.SplitAfter(md, "\n")
	var pre strings.Builder
	var secs []section
	var cur *strings.Builder
	flush := func() {
		if cur != nil {
			text := strings.TrimRight(cur.String(), "\n")
			s := section{text: text}
			for _, suite := range allSuites {
				if strings.HasPrefix(text, suiteHeading(suite)) {
					s.suite = suite
				}
			}
			secs = append(secs, s)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") {
			flush()
			cur = &strings.Builder{}
		}
		if cur == nil {
			pre.WriteString(l)
		} else {
			cur.WriteString(l)
		}
	}
	flush()
	return pre.String(), secs
}

// mergeResults is the RESULTS.md a run of the suites ran leaves: fresh
// itself when every suite ran; otherwise old, with the sections of the
// suites that ran replaced by (or, when old has none, inserted from) fresh,
// each marked with note unless it names its own run, and everything else
// kept as it was.
func mergeResults(old, fresh string, ran []string, note string) string {
	if !slices.ContainsFunc(allSuites, func(s string) bool { return !slices.Contains(ran, s) }) {
		return fresh
	}
	pre, oldSecs := splitSections(old)
	_, freshSecs := splitSections(fresh)
	mark := func(s section) section {
		if note == "" || strings.Contains(s.text, "Measured on ") {
			return s
		}
		head, rest, _ := strings.Cut(s.text, "\n")
		s.text = head + "\n\n" + note + "\n" + rest
		return s
	}
	var out []section
	used := map[string]bool{}
	for _, s := range oldSecs {
		if s.suite != "" && slices.Contains(ran, s.suite) {
			if i := slices.IndexFunc(freshSecs, func(f section) bool { return f.suite == s.suite }); i >= 0 {
				s = mark(freshSecs[i])
				used[s.suite] = true
			}
		}
		out = append(out, s)
	}
	order := func(suite string) int { return slices.Index(allSuites, suite) }
	for _, f := range freshSecs {
		if f.suite == "" || used[f.suite] {
			continue
		}
		at := len(out)
		for i, s := range out {
			if s.suite != "" && order(s.suite) > order(f.suite) {
				at = i
				break
			}
		}
		out = slices.Insert(out, at, mark(f))
	}
	var b strings.Builder
	b.WriteString(pre)
	for i, s := range out {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s.text)
	}
	b.WriteString("\n")
	return b.String()
}
