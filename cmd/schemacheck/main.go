// Command schemacheck enforces the schema contract in CI: it compares
// schema.graphqls with the last released schema (the committed baseline)
// and fails on any change that can break a client in the field, and it
// lints the schema for the project's conventions (descriptions, naming).
// Non-breaking changes are listed as information. scripts/check-schema.sh
// runs it from the repository root:
//
//	go run ./cmd/schemacheck -baseline schema.baseline.graphqls schema.graphqls
//
// It exits 0 when the check passes, 1 when it finds a breaking change or a
// lint violation, and 2 when it cannot read or load a schema. The rules
// are in graph/schemadiff; docs/schema.md explains them.
//
// It is a build tool, not part of the server, which is why its package may
// import gqlparser from under internal/.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/eventms/gateway/graph/schemadiff"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("schemacheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	baselinePath := flags.String("baseline", "schema.baseline.graphqls", "the last released schema")
	allowDeprecated := flags.Bool("allow-removing-deprecated", false,
		"accept removing what the baseline deprecated (reported as dangerous)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: schemacheck [-baseline schema.baseline.graphqls] [-allow-removing-deprecated] [schema.graphqls]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	currentPath := "schema.graphqls"
	switch flags.NArg() {
	case 0:
	case 1:
		currentPath = flags.Arg(0)
	default:
		flags.Usage()
		return 2
	}

	baseline, err := schemadiff.LoadFile(*baselinePath)
	if err != nil {
		fmt.Fprintf(stderr, "schemacheck: baseline %s: %v\n", *baselinePath, err)
		return 2
	}
	current, err := schemadiff.LoadFile(currentPath)
	if err != nil {
		fmt.Fprintf(stderr, "schemacheck: %s: %v\n", currentPath, err)
		return 2
	}
	report := schemadiff.Check(baseline, current, schemadiff.Options{AllowRemovingDeprecated: *allowDeprecated})
	if err := report.Print(stdout); err != nil {
		fmt.Fprintf(stderr, "schemacheck: %v\n", err)
		return 2
	}
	if report.Failed() {
		return 1
	}
	return 0
}
