// Package trusted runs only the operations that frontend teams ship
// ("trusted documents", Apollo's safelisting, GraphQL over HTTP's persisted
// documents): manifests produced at build time by GraphQL Code Generator,
// Apollo or Relay are parsed and validated against the schema once, at
// load, and requests name an operation by its id instead of sending text.
//
//   - Manifest reads the three manifest formats, auto-detected, and merges
//     several files; a document that does not parse or validate refuses the
//     whole manifest (ManifestError names the file, the operation and the
//     GraphQL error).
//   - Store holds the documents in force, by id and by text, and swaps them
//     atomically when a file changes, on a signal (SIGHUP), or when a
//     manifest is published to the fleet through Redis (Publish); a bad new
//     list is refused and the previous one stays in force.
//   - Extension is the gqlgen extension that resolves ids (documentId,
//     Apollo's persistedQuery hash) into the trusted text and, by Mode,
//     refuses or reports everything else.
//   - QueryCache answers trusted texts with their parsed and validated
//     documents, so that gqlgen skips parsing and validation for them.
//
// A listed operation sent as full text is matched byte-exact: its text must
// be the manifest's body exactly (what the clients' generated code sends),
// found by a map lookup of the text. Texts are not normalised (whitespace,
// field order, comments): normalising would cost a parse per request, the
// very thing trusted documents save, and a text that differs from the
// manifest in any byte is not the text that was reviewed.
package trusted

import (
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql/errcode"
)

// Mode says what the gateway does with operations that are not listed.
type Mode int

const (
	// Off runs everything; the list is not consulted.
	Off Mode = iota
	// Log runs everything and reports each operation that is not listed
	// (Extension.OnUnlisted): the way to find what a manifest misses before
	// enforcing it.
	Log
	// Enforce runs listed operations only.
	Enforce
)

// ParseMode reads off, log or enforce (any case).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "":
		return Off, nil
	case "log":
		return Log, nil
	case "enforce":
		return Enforce, nil
	}
	return Off, fmt.Errorf("trusted documents mode %q: want off, log or enforce", s)
}

// String is the mode as ParseMode reads it.
func (m Mode) String() string {
	switch m {
	case Log:
		return "log"
	case Enforce:
		return "enforce"
	}
	return "off"
}

// Status is an operation's standing with the list, for metrics
// (Extension.OnOperation).
type Status string

// The statuses an operation can have.
const (
	// StatusListed: the operation is in the list (by id or by its text).
	StatusListed Status = "listed"
	// StatusNotListed: the operation is not in the list and ran all the
	// same (mode log, or introspection allowed under enforce).
	StatusNotListed Status = "not_listed"
	// StatusRefused: the request was refused, before parsing.
	StatusRefused Status = "refused"
)

// Error codes (extensions.code) of refused requests, as Apollo Router names
// the first two.
const (
	// CodeNotInList: the request names an id (documentId, or a
	// persistedQuery hash without a query) that is not in the list.
	CodeNotInList = "PERSISTED_QUERY_NOT_IN_LIST"
	// CodeNotInSafelist: under enforce, the request's text is not in the
	// list (this includes an APQ registration of an unlisted text).
	CodeNotInSafelist = "QUERY_NOT_IN_SAFELIST"
	// CodeIDMismatch: the request names a listed id and also sends a query
	// that is not that id's text.
	CodeIDMismatch = "PERSISTED_QUERY_ID_MISMATCH"
)

func init() {
	// Refusals are request errors, like a validation failure: GraphQL over
	// HTTP answers them 400 with application/graphql-response+json (200
	// with application/json), without "data", and the WebSocket transports
	// as errors of the operation. gqlgen's registry is a plain map, so this
	// must happen at init, before any request reads it.
	for _, code := range []string{CodeNotInList, CodeNotInSafelist, CodeIDMismatch} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}
