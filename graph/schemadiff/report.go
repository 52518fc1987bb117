package schemadiff

import (
	"fmt"
	"io"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Report is the outcome of one check: the changes from the baseline and
// the lint violations of the new schema.
type Report struct {
	Changes    []Change
	Violations []Violation
}

// Check compares current with baseline and lints current.
func Check(baseline, current *ast.Schema, opts Options) Report {
	return Report{Changes: Diff(baseline, current, opts), Violations: Lint(current)}
}

// Count returns how many changes have the given severity.
func (r Report) Count(sev Severity) int {
	n := 0
	for _, c := range r.Changes {
		if c.Severity == sev {
			n++
		}
	}
	return n
}

// Failed reports whether the check fails: a breaking change or a lint
// violation. Dangerous changes are for a reviewer to weigh, not for CI.
func (r Report) Failed() bool {
	return r.Count(Breaking) > 0 || len(r.Violations) > 0
}

// Print writes one line per finding, what fails the check first, then a
// summary line:
//
//	BREAKING   Event.details: field removed
//	LINT       Query.ping: no description
//	DANGEROUS  CircuitState.PAUSED: enum value added; ...
//	INFO       Query.ping: field added
//	schema contract: 1 breaking, 1 dangerous, 1 info, 1 lint: FAIL
func (r Report) Print(w io.Writer) error {
	var b strings.Builder
	changes := func(sev Severity) {
		for _, c := range r.Changes {
			if c.Severity == sev {
				fmt.Fprintf(&b, "%-10s %s\n", strings.ToUpper(sev.String()), c)
			}
		}
	}
	changes(Breaking)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "%-10s %s\n", "LINT", v)
	}
	changes(Dangerous)
	changes(Info)
	verdict := "OK"
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "schema contract: %d breaking, %d dangerous, %d info, %d lint: %s\n",
		r.Count(Breaking), r.Count(Dangerous), r.Count(Info), len(r.Violations), verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
