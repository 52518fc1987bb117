package trusted

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Extension is the gqlgen extension that runs trusted documents. Register
// it before extension.AutomaticPersistedQuery: it resolves ids into text
// first, and takes the persistedQuery extension off requests it has
// answered so that APQ neither looks them up nor registers them again.
//
// For each operation, before anything parses it:
//
//   - extensions.documentId ("sha256:<hex>", bare hex, or the manifest's
//     id; the HTTP transport puts GraphQL over HTTP's documentId there):
//     the listed text runs; an unknown id is refused with
//     PERSISTED_QUERY_NOT_IN_LIST, in every mode. A query sent with it must
//     be that id's text (else PERSISTED_QUERY_ID_MISMATCH).
//   - extensions.persistedQuery.sha256Hash without a query (Apollo's APQ
//     and persisted-query links): the listed text runs. An unknown hash is
//     refused with PERSISTED_QUERY_NOT_IN_LIST under enforce; under log it
//     is left to APQ as before.
//   - a query: listed if its text is a listed document's, byte for byte
//     (see the package comment). Under enforce an unlisted text is refused
//     with QUERY_NOT_IN_SAFELIST, with or without a persistedQuery hash (so
//     APQ registration is refused too), unless AllowIntrospection is set
//     and the operations ask only for __schema, __type and __typename.
//     Under log it runs, and OnUnlisted hears of it.
//
// Refusals happen before parsing and never reach a resolver. In mode Off
// the extension does nothing.
type Extension struct {
	Store *Store
	Mode  Mode
	// AllowIntrospection lets operations that ask only for __schema,
	// __type and __typename run under enforce without being listed, so
	// that GraphiQL and codegen keep working where introspection is on.
	AllowIntrospection bool
	// TokenLimit bounds the parse of an unlisted text that
	// AllowIntrospection checks; give it the server's parser token limit
	// (zero: none).
	TokenLimit int
	// OnOperation hears each operation's status: refused when it is
	// refused, listed or not_listed once it has been parsed and validated
	// (after extension.Introspection and before the limits that follow
	// it). ctx is the request's, with its operation context, whose Headers
	// are the request's (Apollo's apollographql-client-name, say) in every
	// call. Nil: nothing.
	OnOperation func(ctx context.Context, status Status)
	// OnUnlisted hears, under log, of each operation that runs although it
	// is not listed, with its operation name ("" if anonymous) and ctx as
	// OnOperation's. Nil: nothing.
	OnUnlisted func(ctx context.Context, name string)
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = Extension{}

// statsKey is where an operation's Status waits, in the operation
// context's stats, between the two mutators.
const statsKey = "TrustedDocuments"

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return statsKey }

// Validate implements graphql.HandlerExtension.
func (e Extension) Validate(graphql.ExecutableSchema) error {
	if e.Mode != Off && e.Store == nil {
		return errors.New("trusted.Extension: mode " + e.Mode.String() + " needs a Store")
	}
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator:
// it resolves ids and refuses what the mode refuses.
func (e Extension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if e.Mode == Off || !graphql.HasOperationContext(ctx) {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Headers == nil {
		// gqlgen copies them only after the parameter mutators; the hooks
		// read the client's name from them.
		oc.Headers = p.Headers
	}
	status, err := e.classify(p)
	if err != nil {
		e.report(ctx, StatusRefused)
		return err
	}
	if status != "" {
		oc.Stats.SetExtension(statsKey, status)
	}
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator: it
// reports the status of an operation that was parsed and validated.
func (e Extension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if e.Mode == Off {
		return nil
	}
	status, _ := oc.Stats.GetExtension(statsKey).(Status)
	if status == "" {
		return nil
	}
	e.report(ctx, status)
	if status == StatusNotListed && e.Mode == Log && e.OnUnlisted != nil {
		name := oc.OperationName
		if oc.Operation != nil && oc.Operation.Name != "" {
			name = oc.Operation.Name
		}
		e.OnUnlisted(ctx, name)
	}
	return nil
}

func (e Extension) report(ctx context.Context, s Status) {
	if e.OnOperation != nil {
		e.OnOperation(ctx, s)
	}
}

// classify resolves p's id, if it has one, into its text and returns p's
// status, or the error refusing it. "" is no status: a request without a
// document, left to gqlgen to refuse.
func (e Extension) classify(p *graphql.RawParams) (Status, *gqlerror.Error) {
	if raw, ok := p.Extensions["documentId"]; ok {
		id, _ := raw.(string)
		d := e.Store.lookup(id)
		switch {
		case d == nil:
			return "", notInList(id)
		case p.Query != "" && p.Query != d.Text:
			return "", refusal(CodeIDMismatch, "the query is not the text of the document named by documentId: send one or the other")
		}
		p.Query = d.Text
		delete(p.Extensions, "persistedQuery")
		return StatusListed, nil
	}
	hash, hasHash := apqHash(p)
	if hasHash && p.Query == "" {
		if d := e.Store.lookup(hash); d != nil {
			p.Query = d.Text
			delete(p.Extensions, "persistedQuery")
			return StatusListed, nil
		}
		if e.Mode == Log {
			return StatusNotListed, nil // APQ may know it; if not, the client sends the text
		}
		return "", notInList(hash)
	}
	if p.Query == "" {
		return "", nil
	}
	if d := e.Store.byText(p.Query); d != nil {
		if hasHash && e.Store.lookup(hash) == d {
			delete(p.Extensions, "persistedQuery") // listed already: nothing to register
		}
		return StatusListed, nil
	}
	if e.Mode == Log || (e.AllowIntrospection && introspectionOnly(p.Query, e.TokenLimit)) {
		return StatusNotListed, nil
	}
	return "", refusal(CodeNotInSafelist, "the query is not in the list of trusted documents: this server runs only the operations its clients ship, sent by id")
}

// apqHash is the request's extensions.persistedQuery.sha256Hash.
func apqHash(p *graphql.RawParams) (string, bool) {
	pq, ok := p.Extensions["persistedQuery"].(map[string]any)
	if !ok {
		return "", false
	}
	h, ok := pq["sha256Hash"].(string)
	return h, ok && h != ""
}

// maxEchoedID bounds how much of an unknown id an error repeats.
const maxEchoedID = 80

func notInList(id string) *gqlerror.Error {
	if len(id) > maxEchoedID {
		id = id[:maxEchoedID] + "…"
	}
	return refusal(CodeNotInList, fmt.Sprintf("persisted query %q is not in the list of trusted documents", id))
}

func refusal(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}
