package apq

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Extension is gqlgen's extension.AutomaticPersistedQuery over a Store,
// storing only documents that run. Register it where that extension would
// go (before the expansion guard, which must see the document a hash-only
// request stands for).
//
// gqlgen's extension registers a document as soon as its hash matches, in
// MutateOperationParameters: before anything has parsed it, so a megabyte
// that does not even parse would be kept (and shared through Redis for a
// day). Here the cache it is given only stages the document, on the
// request's own operation context (nothing outlives the request), and the
// document is stored when the operation is dispatched
// (InterceptOperation): gqlgen dispatches only an operation whose document
// parsed and validated and that every parameter and context mutator
// accepted (the expansion guard, depth, aliases, complexity), so what is
// stored is what runs, whatever order the other extensions are registered
// in. Checking the document in the cache itself instead would parse and
// validate every registration twice.
type Extension struct {
	Store *Store
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationInterceptor
} = Extension{}

// stagedKey names the staged registration among the operation's Stats
// extensions, the one place per operation gqlgen lets an extension write.
const stagedKey = "apq.staged"

type staged struct{ hash, doc string }

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "AutomaticPersistedQuery" }

// Validate implements graphql.HandlerExtension.
func (e Extension) Validate(graphql.ExecutableSchema) error {
	if e.Store == nil {
		return errors.New("apq.Extension: Store is nil")
	}
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator:
// gqlgen's, which fills in a hash-only request's document and checks a
// registration's hash, over a cache that stages registrations.
func (e Extension) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	return extension.AutomaticPersistedQuery{Cache: registrations{e.Store}}.MutateOperationParameters(ctx, params)
}

// InterceptOperation implements graphql.OperationInterceptor: it stores
// the operation's staged registration, which has now parsed and validated.
func (e Extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if s, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(stagedKey).(staged); ok {
		e.Store.put(ctx, s.hash, s.doc)
	}
	return next(ctx)
}

// registrations is the cache gqlgen's APQ extension reads and registers
// through.
type registrations struct{ store *Store }

var _ graphql.Cache[string] = registrations{}

func (r registrations) Get(ctx context.Context, hash string) (string, bool) {
	return r.store.Get(ctx, hash)
}

// Add stages doc on the operation being created. A document over the
// limit is not even staged; outside an operation (never, from gqlgen)
// nothing could tell whether doc is valid, so it is dropped.
func (r registrations) Add(ctx context.Context, hash, doc string) {
	if len(doc) > r.store.maxDoc || !graphql.HasOperationContext(ctx) {
		return
	}
	graphql.GetOperationContext(ctx).Stats.SetExtension(stagedKey, staged{hash: hash, doc: doc})
}
