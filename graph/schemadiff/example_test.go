package schemadiff_test

import (
	"fmt"
	"os"

	"github.com/eventms/gateway/graph/schemadiff"
)

func ExampleCheck() {
	baseline, _ := schemadiff.Load("baseline.graphqls", `
		"Reads." type Query { "An event." event("Its id." id: ID!): Event }
		"Something a user organises." type Event {
			"Its id." id: ID!
			"Free-text details." details: String
		}
		"A state." enum State { "Open." OPEN }`)
	current, _ := schemadiff.Load("schema.graphqls", `
		"Reads." type Query { "An event." event("Its id." id: ID!): Event }
		"Something a user organises." type Event {
			"Its id." id: ID!
			name: String
		}
		"A state." enum State { "Open." OPEN "Closed." CLOSED }`)
	report := schemadiff.Check(baseline, current, schemadiff.Options{})
	_ = report.Print(os.Stdout)
	fmt.Println("failed:", report.Failed())
	// Output:
	// BREAKING   Event.details: field removed
	// LINT       Event.name: no description
	// DANGEROUS  State.CLOSED: enum value added; clients that switch over every value may not handle it
	// INFO       Event.name: field added
	// schema contract: 1 breaking, 1 dangerous, 1 info, 1 lint: FAIL
	// failed: true
}
